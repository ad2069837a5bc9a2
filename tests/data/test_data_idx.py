"""IDX reader/writer: round trips and every header error."""

import gzip
import struct

import numpy as np
import pytest

from tacjax.data import read_idx, write_idx

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip(tmp_path, dtype, suffix):
    rng = np.random.default_rng(0)
    for shape in [(7,), (3, 4, 5), (2, 1, 3, 2)]:
        a = (rng.normal(size=shape) * 50).astype(dtype)
        path = tmp_path / f"a{len(shape)}{suffix}"
        write_idx(path, a)
        b = read_idx(path)
        assert b.dtype == np.dtype(dtype) and b.shape == shape
        np.testing.assert_array_equal(a, b)
        assert b.flags.writeable


def test_header_bytes_and_gzip_by_content(tmp_path):
    a = np.arange(6, dtype=np.uint8).reshape(2, 3)
    write_idx(tmp_path / "x.gz", a)
    raw = gzip.decompress((tmp_path / "x.gz").read_bytes())
    assert raw[:4] == b"\x00\x00\x08\x02" and struct.unpack(">II", raw[4:12]) == (2, 3)
    assert raw[12:] == bytes(range(6))
    (tmp_path / "x.gz").rename(tmp_path / "plain-name")  # gzip detected from content, not name
    np.testing.assert_array_equal(read_idx(tmp_path / "plain-name"), a)
    b = np.array([1, -2], dtype=np.int32)
    write_idx(tmp_path / "i", b)
    assert (tmp_path / "i").read_bytes() == b"\x00\x00\x0c\x01" + struct.pack(">I", 2) + struct.pack(
        ">ii", 1, -2
    )


def _write(path, data: bytes, gz=False):
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize(
    "data, match",
    [
        (b"\x00\x00", "too short"),
        (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "bad magic"),
        (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "unknown dtype code 0x07"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "truncated"),
        (b"\x00\x00\x08\x02" + struct.pack(">II", 2, 3) + b"\x00" * 5, "payload is 5 bytes .* 6 bytes"),
        (b"\x00\x00\x08\x02" + struct.pack(">II", 2, 3) + b"\x00" * 7, "payload is 7 bytes"),
        (b"\x00\x00\x0b\x01" + struct.pack(">I", 2) + b"\x00" * 3, "payload is 3 bytes .* 4 bytes"),
    ],
)
@pytest.mark.parametrize("gz", [False, True])
def test_header_errors_name_the_file(tmp_path, data, match, gz):
    path = _write(tmp_path / "bad-file-idx", data, gz)
    with pytest.raises(ValueError, match=match) as e:
        read_idx(path)
    assert "bad-file-idx" in str(e.value)


def test_corrupt_gzip_and_missing_file(tmp_path):
    good = gzip.compress(b"\x00\x00\x08\x01" + struct.pack(">I", 100) + bytes(100))
    path = _write(tmp_path / "cut.gz", good[: len(good) // 2])
    with pytest.raises(ValueError, match="cut.gz.*cannot be decompressed"):
        read_idx(path)
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "absent")


def test_write_errors(tmp_path):
    with pytest.raises(TypeError, match="int64"):
        write_idx(tmp_path / "a", np.zeros(3, np.int64))
    with pytest.raises(TypeError, match="bool"):
        write_idx(tmp_path / "a", np.zeros(3, bool))
    with pytest.raises(ValueError, match="1 to 255 dimensions"):
        write_idx(tmp_path / "a", np.uint8(3))
