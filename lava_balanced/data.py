"""MNIST loading: a validating IDX reader, the bundled subset, and a
checksum-verified download.

Where the data comes from, in order:

1. an explicit ``data_dir`` (a folder holding the four standard IDX files,
   ``.gz`` or raw);
2. the environment variable ``LAVA_BALANCED_DATA``;
3. the user cache ``~/.cache/lava-balanced/mnist``, which
   :func:`download_mnist` fills (md5-verified) when a network exists.

``"bundled"`` selects the small subset shipped inside the package
(:data:`BUNDLED_PATH`), so that the main job works offline anywhere.
"""

from __future__ import annotations

import gzip
import zlib
import hashlib
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np

__all__ = [
    "Dataset",
    "IDXError",
    "read_idx",
    "load_mnist",
    "load_bundled",
    "load_dataset",
    "resolve_data_dir",
    "download_mnist",
    "MNIST_FILES",
    "BUNDLED_PATH",
]

#: The four standard files with the md5 of their ``.gz`` form and of the
#: uncompressed IDX bytes (from the dataset's published values).
MNIST_FILES = {
    "train_images": ("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                     "6bbc9ace898e44ae57da46a324031adb"),
    "train_labels": ("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432",
                     "a25bea736e30d166cdddb491f175f624"),
    "test_images": ("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3",
                    "2646ac647ad5339dbf082846283269ea"),
    "test_labels": ("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c",
                    "27ae3e4e09519cfbb04c329615203637"),
}

#: Mirrors tried in order by :func:`download_mnist` (every file is
#: md5-checked, so a mirror cannot hand over different data).
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

BUNDLED_PATH = Path(__file__).resolve().parent / "bundled" / "mnist_subset.npz"
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lava-balanced" / "mnist"

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class IDXError(ValueError):
    """A file is not a valid IDX file (bad magic, dimensions or size)."""


@dataclass
class Dataset:
    """Images as uint8 ``(N, 784)`` and labels as uint8 ``(N,)``, for a
    training and a test split."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str = ""

    def __post_init__(self):
        for split in ("train", "test"):
            x = getattr(self, f"{split}_images")
            y = getattr(self, f"{split}_labels")
            if x.ndim != 2 or x.shape[1] != 784:
                raise ValueError(f"{split} images must have shape (N, 784), got {x.shape}")
            if y.shape != (x.shape[0],):
                raise ValueError(
                    f"{split} labels must have shape ({x.shape[0]},), got {y.shape}")
            if y.size and (y.min() < 0 or y.max() > 9):
                raise ValueError(f"{split} labels must lie in 0..9")

    def subset(self, n_train: Optional[int] = None, n_test: Optional[int] = None) -> "Dataset":
        """The first ``n_train`` training and ``n_test`` test samples."""
        return Dataset(self.train_images[:n_train], self.train_labels[:n_train],
                       self.test_images[:n_test], self.test_labels[:n_test],
                       source=self.source)


def _read_bytes(path: Path) -> bytes:
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise IDXError(f"{path}: cannot read ({exc}); the file is corrupt or truncated") from exc


def read_idx(path: Union[str, Path], expect_ndim: Optional[int] = None) -> np.ndarray:
    """Read an IDX file (raw or ``.gz``), validating it.

    The header is two zero bytes, a type code, the number of dimensions, then
    one big-endian uint32 per dimension. Raises :class:`IDXError` naming the
    problem on a wrong magic number, an unexpected number of dimensions, or a
    payload whose size does not match the dimensions (truncated or padded).
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise IDXError(f"{path}: {len(raw)} bytes is too short for an IDX header")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        magic = int.from_bytes(raw[:4], "big")
        raise IDXError(f"{path}: bad magic number {magic} (0x{magic:08x}); not an IDX file")
    ndim = raw[3]
    if ndim == 0 or (expect_ndim is not None and ndim != expect_ndim):
        raise IDXError(f"{path}: magic number says {ndim} dimensions, expected {expect_ndim}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(f"{path}: truncated header ({len(raw)} bytes, need {header})")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(dims)) * dtype.itemsize
    got = len(raw) - header
    if got != expected:
        kind = "truncated" if got < expected else "has trailing bytes"
        raise IDXError(f"{path}: payload {kind}: dimensions {dims} need {expected} bytes, "
                       f"file has {got}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)


def _find(data_dir: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx") + ".gz", stem.replace("-idx", ".idx")):
        p = data_dir / name
        if p.exists():
            return p
    raise FileNotFoundError(f"{data_dir}: no {stem}[.gz]; expected the four MNIST IDX files there")


def load_mnist(data_dir: Union[str, Path]) -> Dataset:
    """Load the four MNIST IDX files from ``data_dir`` and check that image
    and label counts and image sizes agree."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"MNIST data directory {data_dir} does not exist")
    arrays = {}
    for key, (stem, _, _) in MNIST_FILES.items():
        arrays[key] = read_idx(_find(data_dir, stem), expect_ndim=3 if "images" in key else 1)
    for split in ("train", "test"):
        x, y = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if x.shape[1:] != (28, 28):
            raise IDXError(f"{split} images are {x.shape[1:]}, expected 28x28")
        if x.shape[0] != y.shape[0]:
            raise IDXError(f"{split}: {x.shape[0]} images but {y.shape[0]} labels")
        if x.dtype != np.uint8 or y.dtype != np.uint8:
            raise IDXError(f"{split}: expected uint8 images and labels")
        if y.size and y.max() > 9:
            raise IDXError(f"{split}: label {int(y.max())} outside 0..9")
    return Dataset(arrays["train_images"].reshape(-1, 784), arrays["train_labels"].copy(),
                   arrays["test_images"].reshape(-1, 784), arrays["test_labels"].copy(),
                   source=str(data_dir))


def load_bundled() -> Dataset:
    """The small MNIST subset shipped with the package (see
    ``lava_balanced/bundled/README.md`` for how it was drawn)."""
    with np.load(BUNDLED_PATH) as f:
        return Dataset(f["train_images"], f["train_labels"], f["test_images"],
                       f["test_labels"], source="bundled")


def resolve_data_dir(data_dir: Optional[Union[str, Path]] = None) -> Path:
    """The data directory from the argument, ``$LAVA_BALANCED_DATA`` or the
    cache, in that order."""
    if data_dir:
        return Path(data_dir)
    env = os.environ.get("LAVA_BALANCED_DATA")
    if env:
        return Path(env)
    return DEFAULT_CACHE


def load_dataset(data: Optional[Union[str, Path]] = None, download: bool = False) -> Dataset:
    """``"bundled"`` gives the packaged subset; anything else is resolved by
    :func:`resolve_data_dir`. With ``download=True`` missing files are fetched
    into the cache (md5-verified)."""
    if data == "bundled":
        return load_bundled()
    path = resolve_data_dir(data)
    if download and not all(_exists(path, stem) for stem, _, _ in MNIST_FILES.values()):
        download_mnist(path)
    return load_mnist(path)


def _exists(path: Path, stem: str) -> bool:
    try:
        _find(path, stem)
        return True
    except FileNotFoundError:
        return False


def md5sum(path: Union[str, Path]) -> str:
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download_mnist(dest: Union[str, Path], mirrors=MIRRORS, timeout: float = 60.0) -> Path:
    """Download the four ``.gz`` files into ``dest``, verify each md5, and
    move it into place atomically. Raises ``RuntimeError`` naming the file if
    no mirror gives bytes with the published checksum."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for stem, md5_gz, _ in MNIST_FILES.values():
        target = dest / (stem + ".gz")
        if target.exists() and md5sum(target) == md5_gz:
            continue
        errors = []
        for mirror in mirrors:
            fd, tmp = tempfile.mkstemp(dir=dest, prefix=".dl-")
            try:
                with os.fdopen(fd, "wb") as out, urllib.request.urlopen(mirror + stem + ".gz", timeout=timeout) as resp:
                    shutil.copyfileobj(resp, out)
                got = md5sum(tmp)
                if got != md5_gz:
                    errors.append(f"{mirror}: md5 {got} != {md5_gz}")
                    continue
                os.replace(tmp, target)
                break
            except OSError as exc:
                errors.append(f"{mirror}: {exc}")
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        else:
            raise RuntimeError(f"could not download {stem}.gz: " + "; ".join(errors))
    return dest
