#!/usr/bin/env bash
# GPU check: one command, under 8 minutes on one NVIDIA GPU (sized for an H200 with 16 CPU cores).
#
#   bash scripts/gpu_check.sh [OUT_DIR]                  # default OUT_DIR: results/gpu
#   bash scripts/gpu_check.sh --cpu-smoke [OUT_DIR]      # the same steps at tiny sizes on the CPU
#   GPU_CHECK_DRY_RUN=1 bash scripts/gpu_check.sh ...    # same as --cpu-smoke
#   GPU_CHECK_ARGS_ONLY="bench_peers ..." bash ...        # those benchmark steps only check their
#                                                         # arguments (scripts/peers/args_only.py)
#
# Steps (each with a time limit, 480 s together; a failed step is recorded and the next one still runs):
#   1. python: $GPU_CHECK_PYTHON if set; else python3 when its JAX already sees a GPU; else a fresh venv
#      ($GPU_CHECK_VENV, default .venv-gpu) with `pip install -e '.[cuda]'` (needs PyPI; stops otherwise)
#   2. device: jax.devices() and tacjax.runtime.describe() -> device.json (stops unless the backend is gpu)
#   3. tests: the device-agnostic core tests (neurons, aggregate, dynamic, parallel, pool, surrogate,
#      encoding; a name is tests/test_NAME.py or the folder tests/NAME)
#      with JAX_DEFAULT_MATMUL_PRECISION=highest, so float32 convolutions are not run in TF32 against
#      the float32 NumPy references (the smoke run only collects them)
#   4. scripts/bench_tac.py (B = 512), 5. scripts/bench_peers.py (Linear+LIF N = 4096 and 16384, MNIST
#      step B = 128 and 512; snnTorch/SpikingJelly/spyx when installed; it saves after every worker, so
#      a time-out still leaves figures), 6. scripts/bench_neurons.py if it exists, 7. scripts/
#      bench_lif_parallel.py (T = 256, 1024, 4096); benchmarks run at JAX's default precision
#   8. OUT_DIR/gpu_check.md and gpu_check.json: every figure and step status in two files.
# No tcmalloc or XLA CPU flag is set: they are CPU settings.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SMOKE=${GPU_CHECK_DRY_RUN:-0}
if [ "${1:-}" = "--cpu-smoke" ]; then SMOKE=1; shift; fi
OUT=$(mkdir -p "${1:-results/gpu}" && cd "${1:-results/gpu}" && pwd)
: >"$OUT/steps.tsv"
FAILED=0

note() { printf '\n=== %s\n' "$*"; }

# step NAME LIMIT_S LOGFILE CMD...: run CMD with a time limit; its stdout goes to LOGFILE and its stderr
# to LOGFILE's .err twin (both also to the terminal); records exit code and seconds in steps.tsv.
step() {
  local name=$1 limit=$2 log=$3 t0 rc
  shift 3
  local why=""
  if [[ " ${GPU_CHECK_ARGS_ONLY:-} " == *" $name "* ]]; then  # "$PY" SCRIPT ARGS: parse ARGS, run nothing
    set -- "$1" scripts/peers/args_only.py "${@:2}"
    why="arguments checked only (GPU_CHECK_ARGS_ONLY)"
  fi
  note "$name (limit ${limit}s)"
  t0=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" 2> >(tee "${log%.*}.err" >&2) | tee "$log"
  rc=${PIPESTATUS[0]}
  [ "$rc" = 124 ] && why="timed out after ${limit}s"
  printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$(( $(date +%s) - t0 ))" "$why" >>"$OUT/steps.tsv"
  [ "$rc" = 0 ] || FAILED=1
  return "$rc"
}

# 1. Python with JAX on the GPU
if [ -n "${GPU_CHECK_PYTHON:-}" ]; then
  PY=$GPU_CHECK_PYTHON
elif [ "$SMOKE" = 1 ]; then
  PY=$(command -v python3)
elif timeout 120 python3 -c "import jax, sys; sys.exit(jax.default_backend() != 'gpu')" 2>/dev/null; then
  PY=$(command -v python3)
  note "using the preinstalled $PY (its JAX sees a GPU)"
else
  VENV=${GPU_CHECK_VENV:-.venv-gpu}
  note "installing the cuda extra into a fresh venv $VENV"
  if ! timeout 60 python3 -m pip index versions jax >/dev/null 2>&1; then
    echo "gpu_check: pip cannot reach PyPI and no python3 with a GPU-enabled JAX was found." >&2
    echo "  Install 'jax[cuda12]' (or use an image that has it) and rerun with GPU_CHECK_PYTHON=/path/python." >&2
    exit 2
  fi
  python3 -m venv "$VENV" && "$VENV/bin/python" -m pip install -q --upgrade pip &&
    timeout 600 "$VENV/bin/python" -m pip install -q -e '.[cuda]' pytest pytest-xdist hypothesis matplotlib || {
      echo "gpu_check: installing '.[cuda]' into $VENV failed (see pip's message above)." >&2
      exit 2
    }
  PY=$VENV/bin/python
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
unset LD_PRELOAD XLA_FLAGS

# 2. Device
DEVICE_PY='import json, sys, jax, tacjax.runtime as r
d = r.describe()
print("jax.devices():", jax.devices())
json.dump(d, open(sys.argv[1], "w"), indent=1)
sys.exit(0 if d["backend"] == "gpu" or sys.argv[2] == "1" else 3)'
if ! step device 40 "$OUT/device.log" "$PY" -c "$DEVICE_PY" "$OUT/device.json" "$SMOKE"; then
  echo "gpu_check: JAX does not see a GPU (see $OUT/device.log); stopping." >&2
  "$PY" scripts/peers/gpu_summary.py "$OUT"
  exit 3
fi

# 3. Device-agnostic tests
TESTS=()
for f in ${GPU_CHECK_TESTS:-neurons aggregate dynamic parallel pool surrogate encoding}; do
  if [ -f "tests/test_$f.py" ]; then TESTS+=("tests/test_$f.py"); elif [ -d "tests/$f" ]; then TESTS+=("tests/$f"); fi
done
if [ "$SMOKE" = 1 ]; then
  step tests 100 "$OUT/tests.log" "$PY" -m pytest -q -p no:cacheprovider --collect-only "${TESTS[@]}"
else
  # 8 test processes share the GPU when pytest-xdist is there (the tests are compile-bound: about 160
  # CPU-seconds on our CPU), so no process may preallocate GPU memory.
  XDIST=()
  "$PY" -c "import xdist" 2>/dev/null && XDIST=(-n 8)
  step tests 120 "$OUT/tests.log" env JAX_DEFAULT_MATMUL_PRECISION=highest XLA_PYTHON_CLIENT_PREALLOCATE=false \
    "$PY" -m pytest -q -p no:cacheprovider "${XDIST[@]}" --junitxml="$OUT/tests.xml" "${TESTS[@]}"
fi

# 4.-6. Benchmarks
if [ "$SMOKE" = 1 ]; then
  TAC_ARGS=(--workloads a --batch 1 --ks 2 --reps 1 --warmup 1)
  LIFP_ARGS=(--quick)
  PEER_ARGS=(--libs tacjax jax --variants baseline --workloads on --n 32 --on-batch 2 --on-steps 8
             --repeats 1 --warmup 1 --no-pin)
else
  TAC_ARGS=(--batch 512 --ks 2 4 8 --reps 20 --warmup 2)
  PEER_ARGS=(--n 4096 16384 --mnist-batch 128 512 --threads "$(nproc)" --no-pin --repeats 10 --timeout 100)
  LIFP_ARGS=(--steps 256 1024 4096 --plain-max-steps 256)
fi
step bench_tac 65 "$OUT/bench_tac.md" "$PY" scripts/bench_tac.py --configs default "${TAC_ARGS[@]}" \
  --out "$OUT/bench_tac.json"
step bench_peers 155 "$OUT/bench_peers.log" "$PY" scripts/bench_peers.py "${PEER_ARGS[@]}" --out "$OUT/peers"
if [ -f scripts/bench_neurons.py ]; then
  NEURON_ARGS=()
  HELP=$(timeout 60 "$PY" scripts/bench_neurons.py --help 2>&1)
  [[ $HELP == *--out* ]] && NEURON_ARGS+=(--out "$OUT/bench_neurons.json")
  if [ "$SMOKE" = 1 ]; then
    if [[ $HELP == *--quick* ]]; then NEURON_ARGS+=(--quick); else NEURON_ARGS=(--help); fi
  fi
  step bench_neurons 60 "$OUT/bench_neurons.md" "$PY" scripts/bench_neurons.py "${NEURON_ARGS[@]}"
else
  note "bench_neurons: scripts/bench_neurons.py does not exist yet; skipped"
  printf 'bench_neurons\t0\t0\tskipped: scripts/bench_neurons.py absent\n' >>"$OUT/steps.tsv"
fi

step bench_lif_parallel 40 "$OUT/bench_lif_parallel.md" "$PY" scripts/bench_lif_parallel.py "${LIFP_ARGS[@]}" \
  --out "$OUT/bench_lif_parallel.json"

# 8. Summary
"$PY" scripts/peers/gpu_summary.py "$OUT" || FAILED=1
exit "$FAILED"
