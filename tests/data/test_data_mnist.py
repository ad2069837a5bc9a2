"""MNIST / Fashion-MNIST loaders on IDX files the tests write; downloads are simulated."""

import dataclasses
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from tacjax.data import load_fashion_mnist, load_mnist, to_float, write_idx
from tacjax.data import mnist as mnist_mod

NAMES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}  # fmt: skip


def make_split(folder: Path, split="train", n=12, seed=0, gz=True, dotted=False, images=None, labels=None):
    """Write a small IDX split into ``folder``; returns (images, labels)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8) if images is None else images
    labels = rng.integers(0, 10, size=len(images)).astype(np.uint8) if labels is None else labels
    folder.mkdir(parents=True, exist_ok=True)
    for base, arr in zip(NAMES[split], (images, labels), strict=True):
        name = base.replace("-idx", ".idx") if dotted else base
        write_idx(folder / (name + (".gz" if gz else "")), arr)
    return images, labels


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No TACJAX_DATA, a private cache, no system folder, and no network."""
    monkeypatch.delenv("TACJAX_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    sysdir = tmp_path / "system" / "fashion-mnist"
    monkeypatch.setattr(
        mnist_mod, "_FASHION", dataclasses.replace(mnist_mod._FASHION, system_dirs=(str(sysdir),))
    )

    def no_network(url, dest):
        raise AssertionError(f"unexpected download of {url}")

    monkeypatch.setattr(mnist_mod, "_fetch", no_network)
    return sysdir


def _check(got, want):
    (gi, gl), (wi, wl) = got, want
    assert gi.dtype == np.uint8 and gi.shape == wi.shape and gl.dtype == np.int32 and gl.shape == wl.shape
    np.testing.assert_array_equal(gi, wi)
    np.testing.assert_array_equal(gl, wl.astype(np.int32))


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("dotted", [False, True])
def test_data_dir_raw_and_gz(tmp_path, gz, dotted):
    want = make_split(tmp_path / "d", "test", n=7, gz=gz, dotted=dotted)
    _check(load_mnist("test", data_dir=tmp_path / "d", download=False), want)
    _check(load_fashion_mnist("test", data_dir=str(tmp_path / "d"), download=False), want)


def test_subfolders_and_env_var(tmp_path, monkeypatch):
    root = tmp_path / "root"
    m = make_split(root / "mnist", "train", seed=1)
    f = make_split(root / "fashion-mnist", "train", seed=2, gz=False)
    _check(load_mnist(data_dir=root, download=False), m)
    _check(load_fashion_mnist(data_dir=root, download=False), f)
    monkeypatch.setenv("TACJAX_DATA", str(root))
    _check(load_mnist("train", download=False), m)
    _check(load_fashion_mnist("train", download=False), f)


def test_search_order(tmp_path, monkeypatch, isolated):
    arg = make_split(tmp_path / "arg", "train", seed=1)
    env = make_split(tmp_path / "env", "train", seed=2)
    sysd = make_split(isolated, "train", seed=3)
    monkeypatch.setenv("TACJAX_DATA", str(tmp_path / "env"))
    _check(load_fashion_mnist("train", tmp_path / "arg", download=False), arg)  # argument first
    (tmp_path / "empty").mkdir()
    _check(load_fashion_mnist("train", tmp_path / "empty", download=False), env)  # then env
    monkeypatch.delenv("TACJAX_DATA")
    _check(load_fashion_mnist("train", download=False), sysd)  # then the system folder
    with pytest.raises(FileNotFoundError):
        load_mnist("train", download=False)  # MNIST has no system folder
    sub = make_split(tmp_path / "arg" / "mnist", "train", seed=4)  # <dir>/mnist before <dir>
    _check(load_mnist("train", tmp_path / "arg", download=False), sub)


def test_not_found_lists_every_place(tmp_path, monkeypatch, isolated):
    monkeypatch.setenv("TACJAX_DATA", str(tmp_path / "envdir"))
    (tmp_path / "argdir").mkdir()
    with pytest.raises(FileNotFoundError) as e:
        load_fashion_mnist("test", data_dir=tmp_path / "argdir", download=False)
    msg = str(e.value)
    arg, env = tmp_path / "argdir", tmp_path / "envdir"
    cache = tmp_path / "xdg" / "tacjax" / "fashion-mnist"
    for place in [arg / "fashion-mnist", arg, env / "fashion-mnist", env, isolated, cache]:
        assert f"{place} (" in msg, (place, msg)
    for hint in ["t10k-images-idx3-ubyte", "download=False", "--data-dir", "TACJAX_DATA=",
                 "apt-get install dataset-fashion-mnist"]:  # fmt: skip
        assert hint in msg
    monkeypatch.delenv("TACJAX_DATA")
    with pytest.raises(FileNotFoundError, match=r"data_dir`: not given\n  - \$TACJAX_DATA: not set"):
        load_mnist("train", download=False)


def test_validation_errors(tmp_path):
    rng = np.random.default_rng(0)
    make_split(tmp_path / "a", "train", labels=np.arange(11, dtype=np.uint8) % 11,
               images=np.zeros((11, 28, 28), np.uint8))  # fmt: skip
    with pytest.raises(ValueError, match="labels must lie in 0..9; found 10"):
        load_mnist("train", tmp_path / "a", download=False)
    make_split(tmp_path / "b", "train", images=np.zeros((5, 28, 28), np.uint8), labels=np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="5 images but .* 4 labels"):
        load_mnist("train", tmp_path / "b", download=False)
    make_split(tmp_path / "c", "train", images=rng.integers(0, 9, (3, 27, 28), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"\[N, 28, 28\]; got uint8 \(3, 27, 28\)"):
        load_mnist("train", tmp_path / "c", download=False)
    make_split(tmp_path / "d", "train", images=np.zeros((3, 28, 28), np.float32))
    with pytest.raises(ValueError, match="float32"):
        load_mnist("train", tmp_path / "d", download=False)
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + bytes(20))
    (tmp_path / "e" / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + bytes(4))
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*payload"):
        load_mnist("train", tmp_path / "e", download=False)
    with pytest.raises(ValueError, match="split"):
        load_mnist("val", tmp_path / "a", download=False)


def _server(tmp_path, split="train"):
    """Gz files 'on a mirror' and a spec whose sha256 table matches them."""
    srv = tmp_path / "server"
    want = make_split(srv, split, n=9, seed=5)
    sums = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in srv.iterdir()}
    return srv, want, sums


def test_download_checked_and_cached(tmp_path, monkeypatch):
    srv, want, sums = _server(tmp_path)
    monkeypatch.setattr(mnist_mod, "_MNIST", dataclasses.replace(mnist_mod._MNIST, sha256=sums))
    calls = []

    def fake_fetch(url, dest):
        calls.append(url)
        shutil.copyfile(srv / url.rsplit("/", 1)[1], dest)

    monkeypatch.setattr(mnist_mod, "_fetch", fake_fetch)
    _check(load_mnist("train"), want)
    assert [u.rsplit("/", 1)[1] for u in calls] == [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
    ]
    assert calls[0].startswith(mnist_mod._MNIST.mirrors[0])
    cache = tmp_path / "xdg" / "tacjax" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
    ]
    _check(load_mnist("train", download=False), want)  # found in the cache, no new download
    assert len(calls) == 2


def test_download_with_bad_checksum_is_rejected(tmp_path, monkeypatch):
    srv, _, sums = _server(tmp_path)
    monkeypatch.setattr(mnist_mod, "_MNIST", dataclasses.replace(mnist_mod._MNIST, sha256=sums))
    calls = []

    def corrupt_fetch(url, dest):
        calls.append(url)
        data = bytearray((srv / url.rsplit("/", 1)[1]).read_bytes())
        data[len(data) // 2] ^= 0xFF
        Path(dest).write_bytes(bytes(data))

    monkeypatch.setattr(mnist_mod, "_fetch", corrupt_fetch)
    with pytest.raises(FileNotFoundError, match="sha256 mismatch") as e:
        load_mnist("train")
    assert len(calls) == len(mnist_mod._MNIST.mirrors)  # every mirror tried, each rejected
    assert all(m + "train-images-idx3-ubyte.gz" in str(e.value) for m in mnist_mod._MNIST.mirrors)
    cache = tmp_path / "xdg" / "tacjax" / "mnist"
    assert not any(cache.iterdir())  # nothing unverified is left behind


def test_network_error_is_reported(tmp_path, monkeypatch):
    def offline(url, dest):
        raise OSError("Name or service not known")

    monkeypatch.setattr(mnist_mod, "_fetch", offline)
    with pytest.raises(FileNotFoundError, match="Name or service not known"):
        load_fashion_mnist("test")


def test_real_checksums_are_well_formed():
    for spec in (mnist_mod._MNIST, mnist_mod._FASHION):
        assert sorted(spec.sha256) == sorted(b + ".gz" for pair in NAMES.values() for b in pair)
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in spec.sha256.values())


def test_to_float():
    x = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    y = to_float(x)
    assert y.dtype == np.float32 and y.shape == (1, 2, 2, 1)
    np.testing.assert_allclose(y[..., 0], x / 255.0, rtol=1e-6)
    assert to_float(x[..., None]).shape == (1, 2, 2, 1)
    with pytest.raises(TypeError, match="uint8"):
        to_float(x.astype(np.float32))
    with pytest.raises(ValueError, match="shape"):
        to_float(np.zeros((2, 3, 3, 3), np.uint8))


def test_data_dir_that_does_not_exist_is_an_error(tmp_path, monkeypatch):
    make_split(tmp_path / "env", "train", seed=2)
    monkeypatch.setenv("TACJAX_DATA", str(tmp_path / "env"))  # a copy the loader must not fall back to
    for load in (load_mnist, load_fashion_mnist):
        with pytest.raises(FileNotFoundError, match=r"`data_dir` '.*typo' is not an existing folder"):
            load("train", tmp_path / "typo", download=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileNotFoundError, match="`data_dir`"):
        load_mnist("train", tmp_path / "file", download=False)


def test_find_idx_files_says_which_copy(tmp_path, monkeypatch):
    from tacjax.data import find_idx_files

    make_split(tmp_path / "arg" / "mnist", "train", seed=1)
    make_split(tmp_path / "env", "test", seed=2)
    monkeypatch.setenv("TACJAX_DATA", str(tmp_path / "env"))
    img, lab, origin = find_idx_files("mnist", "train", tmp_path / "arg")
    assert origin == "data_dir" and img.parent == tmp_path / "arg" / "mnist" and "labels" in lab.name
    assert find_idx_files("fashion_mnist", "test", tmp_path / "arg")[2] == "TACJAX_DATA"
    assert find_idx_files("fashion_mnist", "train") is None
    with pytest.raises(ValueError, match="`dataset` must be 'mnist' or 'fashion_mnist'; got 'cifar'"):
        find_idx_files("cifar")
    with pytest.raises(ValueError, match="`split`"):
        find_idx_files("mnist", "val")
