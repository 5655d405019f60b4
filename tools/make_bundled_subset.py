"""Draw the small MNIST subset shipped inside the package.

    python tools/make_bundled_subset.py ../shared/data/mnist

Stratified and seeded: 600 training images per class from the 60,000
training images and 100 test images per class from the 10,000 test images,
each class's pick drawn by numpy's default_rng(0), kept in file order.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lava_balanced.data import BUNDLED_PATH, load_mnist  # noqa: E402


def stratified(labels, per_class, rng):
    idx = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in range(10)]
    return np.sort(np.concatenate(idx))


def main(src):
    ds = load_mnist(src)
    rng = np.random.default_rng(0)
    tr = stratified(ds.train_labels, 600, rng)
    te = stratified(ds.test_labels, 100, rng)
    BUNDLED_PATH.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(BUNDLED_PATH, train_images=ds.train_images[tr], train_labels=ds.train_labels[tr],
                        test_images=ds.test_images[te], test_labels=ds.test_labels[te],
                        train_index=tr, test_index=te)
    print(f"wrote {BUNDLED_PATH}: {len(tr)} train, {len(te)} test")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/mnist")
