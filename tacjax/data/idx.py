"""IDX files (the MNIST container format): a strict reader and a writer.

Layout: a 4-byte magic number ``00 00 <dtype code> <ndim>``, then ``ndim`` big-endian
uint32 dimension sizes, then the payload in C order, big-endian. Files may be gzipped;
the reader recognises gzip by its content (``1f 8b``), not by the file name.
"""

from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

from tacjax.common.files import atomic_write_bytes

__all__ = ["IDX_DTYPES", "read_idx", "write_idx"]

#: IDX dtype code -> numpy dtype (big-endian as stored on disk).
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {(dt.kind, dt.itemsize): code for code, dt in IDX_DTYPES.items()}


def _read_bytes(path: str | os.PathLike) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(
                f"read_idx: {os.fspath(path)!r} looks gzipped but cannot be decompressed: {e}"
            ) from e
    return raw


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read a raw or gzipped IDX file.

    Args:
        path: the file (``.gz`` or not; gzip is detected from the content).

    Returns:
        The array, shape given by the header's dimensions, in native byte order (e.g. MNIST
        images: uint8 ``[N, 28, 28]``; labels: uint8 ``[N]``).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: corrupt gzip, bad magic number, unknown dtype code, zero dimensions,
            truncated header, or a payload whose size does not match the header; the message
            names the file.
    """
    name = os.fspath(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"read_idx: {name!r} is too short ({len(data)} bytes) to hold an IDX magic number.")
    if data[0] != 0 or data[1] != 0:
        raise ValueError(
            f"read_idx: {name!r} has a bad magic number {data[:4].hex()}; an IDX file starts with "
            "two zero bytes, a dtype code and the number of dimensions."
        )
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise ValueError(f"read_idx: {name!r} has unknown dtype code 0x{code:02X}; expected one of {known}.")
    if ndim == 0:
        raise ValueError(f"read_idx: {name!r} declares 0 dimensions; expected at least 1.")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"read_idx: {name!r} is truncated: its header needs {header} bytes for {ndim} dimensions, "
            f"the file has {len(data)}."
        )
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    payload = len(data) - header
    if payload != expected:
        raise ValueError(
            f"read_idx: {name!r} payload is {payload} bytes but its header (shape {shape}, dtype "
            f"{dtype.newbyteorder('=')}) implies {expected} bytes; the file is truncated or corrupt."
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file, gzipped when ``path`` ends in ``.gz``, atomically.

    The bytes go to a temporary file that is renamed over ``path``, so a reader never sees a
    half-written file.

    Args:
        path: destination file.
        array: an array of at least one dimension with dtype uint8, int8, int16, int32,
            float32 or float64; every dimension must be below 2**32.

    Raises:
        TypeError: unsupported dtype.
        ValueError: a 0-d array or a dimension too large for the header.
    """
    arr = np.asarray(array)
    if arr.ndim == 0 or arr.ndim > 255:
        raise ValueError(f"write_idx: `array` must have 1 to 255 dimensions; got shape {arr.shape}.")
    key = (arr.dtype.kind, arr.dtype.itemsize)
    if key not in _CODES:
        raise TypeError(
            f"write_idx: `array` dtype {arr.dtype} is not representable in IDX; use uint8, int8, int16, "
            "int32, float32 or float64."
        )
    if any(d >= 2**32 for d in arr.shape):
        raise ValueError(f"write_idx: dimension too large for an IDX header in shape {arr.shape}.")
    code = _CODES[key]
    header = bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    body = np.ascontiguousarray(arr, dtype=IDX_DTYPES[code]).tobytes()
    data = header + body
    atomic_write_bytes(path, gzip.compress(data) if os.fspath(path).endswith(".gz") else data)
