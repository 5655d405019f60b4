"""The IDX reader validates what it reads; MNIST and the bundled subset load."""

import gzip
import struct

import numpy as np
import pytest

from lava_balanced.data import IDXError, load_dataset, load_mnist, read_idx


def _idx(path, array, gz=False, magic_type=0x08, dims=None):
    dims = dims if dims is not None else array.shape
    raw = bytes([0, 0, magic_type, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    raw += array.astype(np.uint8).tobytes()
    if gz:
        with gzip.open(path, "wb") as fh:
            fh.write(raw)
    else:
        path.write_bytes(raw)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_roundtrip(tmp_path, gz):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    out = read_idx(_idx(tmp_path / ("a.gz" if gz else "a"), a, gz=gz), expect_ndim=3)
    np.testing.assert_array_equal(out, a)


def test_bad_magic(tmp_path):
    p = tmp_path / "x"
    p.write_bytes(b"\x1f\x8b\x08\x03" + b"\0" * 20)
    with pytest.raises(IDXError, match="bad magic"):
        read_idx(p)


def test_truncated_payload(tmp_path):
    p = _idx(tmp_path / "t", np.zeros(10), dims=(20,))
    with pytest.raises(IDXError, match="truncated"):
        read_idx(p)


def test_trailing_bytes(tmp_path):
    p = _idx(tmp_path / "t", np.zeros(10), dims=(5,))
    with pytest.raises(IDXError, match="trailing"):
        read_idx(p)


def test_wrong_dimensions(tmp_path):
    p = _idx(tmp_path / "t", np.zeros(4), dims=(4,))
    with pytest.raises(IDXError, match="expected 3"):
        read_idx(p, expect_ndim=3)


def test_corrupt_gzip(tmp_path):
    p = tmp_path / "t.gz"
    p.write_bytes(b"\x1f\x8b\x08\x00garbage-not-gzip")
    with pytest.raises(IDXError, match="corrupt or truncated"):
        read_idx(p)


def test_mismatched_counts(tmp_path):
    _idx(tmp_path / "train-images-idx3-ubyte", np.zeros((3, 28, 28)))
    _idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(2))
    _idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((1, 28, 28)))
    _idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(1))
    with pytest.raises(IDXError, match="3 images but 2 labels"):
        load_mnist(tmp_path)


def test_missing_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_mnist(tmp_path / "nope")


def test_full_mnist_counts(mnist):
    assert mnist.train_images.shape == (60000, 784)
    assert mnist.test_images.shape == (10000, 784)
    assert np.bincount(mnist.train_labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(mnist.test_labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_bundled_subset_is_stratified_and_matches_mnist(bundled, mnist):
    assert bundled.train_images.shape == (6000, 784) and bundled.test_images.shape == (1000, 784)
    assert (np.bincount(bundled.train_labels) == 600).all()
    assert (np.bincount(bundled.test_labels) == 100).all()
    with np.load(__import__("lava_balanced.data", fromlist=["x"]).BUNDLED_PATH) as f:
        np.testing.assert_array_equal(mnist.train_images[f["train_index"]], bundled.train_images)
        np.testing.assert_array_equal(mnist.test_labels[f["test_index"]], bundled.test_labels)


def test_load_dataset_bundled():
    assert load_dataset("bundled").source == "bundled"


def test_download_verifies_checksums(tmp_path):
    """download_mnist against local mirrors (file:// URLs): a mirror serving
    the wrong bytes is refused by md5, the next one is used."""
    import shutil

    from tests.conftest import SHARED_MNIST
    from lava_balanced.data import MNIST_FILES, download_mnist, md5sum

    if not SHARED_MNIST.exists():
        pytest.skip("no MNIST to serve")
    bad, good = tmp_path / "bad", tmp_path / "good"
    bad.mkdir(), good.mkdir()
    for stem, _, _ in MNIST_FILES.values():
        (bad / (stem + ".gz")).write_bytes(b"not mnist")
        shutil.copy(SHARED_MNIST / (stem + ".gz"), good / (stem + ".gz"))
    dest = tmp_path / "dest"
    with pytest.raises(RuntimeError, match="md5"):
        download_mnist(dest, mirrors=(bad.as_uri() + "/",))
    assert not any(dest.glob("*.gz"))  # nothing unverified left in place
    download_mnist(dest, mirrors=(bad.as_uri() + "/", good.as_uri() + "/"))
    for stem, md5_gz, _ in MNIST_FILES.values():
        assert md5sum(dest / (stem + ".gz")) == md5_gz
    assert load_mnist(dest).train_images.shape == (60000, 784)
