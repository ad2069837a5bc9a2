"""Sparse-compute strategies for spiking convolutions, product sparsity, bit/product densities.

Every entry of ``STRATEGIES`` computes the same function as the dense reference
``conv(spikes [N, H, W, C], w [kh, kw, C, O], *, stride=1, padding="SAME") -> [N, Ho, Wo, O]``
(to float tolerance):

==========  ==============================================================  ======  ======
name        how                                                             binary  jit
==========  ==============================================================  ======  ======
dense       XLA convolution (the reference)                                 no      yes
im2col      strided-slice patches, one dense matmul                         no      yes
event       gather/scatter-add per active spike, static capacity            yes     yes
bcoo        patch matrix as ``jax.experimental.sparse.BCOO`` @ weights      no      yes
bcsr        patch matrix as ``BCSR`` @ weights                              no      yes
bitpack     channels packed in uint32 words, mask-and-accumulate            yes     yes
tiles       dense matmuls on the non-empty tiles of the patch matrix only   no      yes
product     Prosperity product sparsity: host prefix plan, reuse execution  yes     no
==========  ==============================================================  ======  ======

"binary": the strategy relies on 0/1 input and raises ValueError on other concrete values
(under ``jit`` values cannot be checked: event and bitpack then treat any non-zero as a spike);
TAC's aggregated frames (beta-weighted sums of spikes) are not binary: "dense", "im2col",
"bcoo", "bcsr" and "tiles" still apply to them (they carry values; the aggregate's non-zero
density is higher than the spikes'), "event", "bitpack" and "product" do not.
"event", "bcoo", "bcsr" and "tiles" take ``capacity`` and ``overflow`` ("error" | "dense")
keywords for jit; "product" takes ``num_steps`` and ``tile``.

Product sparsity is two modules: ``forest`` plans the reuse on the host (NumPy: row codes, prefix
search, residuals, bit/product densities) and ``product`` executes the plan (jitted matmul, conv).

Dense (fully connected) layers are the 1x1 case: ``as_fc(STRATEGIES[name])(x [N, I], w [I, O])``.
"""

from tacjax.sparse.bitpack import bitpack_conv, pack_channels, unpack_channels
from tacjax.sparse.dense import as_fc, conv
from tacjax.sparse.event import event_conv
from tacjax.sparse.forest import ProductPlan, bit_density, product_density, product_plan
from tacjax.sparse.formats import bcoo_conv, bcsr_conv
from tacjax.sparse.im2col import gemm_weights, im2col, im2col_matmul, patches
from tacjax.sparse.product import execute_plan, plan_arrays, product_conv, product_matmul, run_plan
from tacjax.sparse.tiles import tile_conv

STRATEGIES = {
    "dense": conv,
    "im2col": im2col_matmul,
    "event": event_conv,
    "bcoo": bcoo_conv,
    "bcsr": bcsr_conv,
    "bitpack": bitpack_conv,
    "tiles": tile_conv,
    "product": product_conv,
}
BINARY_ONLY = frozenset({"event", "bitpack", "product"})
WITH_CAPACITY = frozenset({"event", "bcoo", "bcsr", "tiles"})
HOST_PLANNED = frozenset({"product"})

__all__ = [
    "BINARY_ONLY",
    "HOST_PLANNED",
    "STRATEGIES",
    "WITH_CAPACITY",
    "ProductPlan",
    "as_fc",
    "bcoo_conv",
    "bcsr_conv",
    "bit_density",
    "bitpack_conv",
    "conv",
    "event_conv",
    "execute_plan",
    "gemm_weights",
    "im2col",
    "im2col_matmul",
    "pack_channels",
    "patches",
    "plan_arrays",
    "product_conv",
    "product_density",
    "product_matmul",
    "product_plan",
    "run_plan",
    "tile_conv",
    "unpack_channels",
]
