import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = Path(os.environ.get("LAVA_BALANCED_TEST_DATA", ROOT.parent / "shared" / "data" / "mnist"))


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", help="run experiments marked slow")


def pytest_collection_modifyitems(config, items):
    # Spyx imports JAX, which starts threads; the Lava runner forks a child per
    # run, and forking a multithreaded process can deadlock. Run the Spyx tests
    # last, so no fork happens after JAX is loaded.
    items.sort(key=lambda item: "test_spyx" in item.nodeid)
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: use --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def mnist():
    """The full MNIST from ../shared/data/mnist (CI and developers have it)."""
    from lava_balanced.data import load_mnist
    if not SHARED_MNIST.exists():
        pytest.skip(f"no MNIST at {SHARED_MNIST}")
    return load_mnist(SHARED_MNIST)


@pytest.fixture(scope="session")
def bundled():
    from lava_balanced.data import load_bundled
    return load_bundled()


@pytest.fixture(scope="session")
def trained_bundled(bundled):
    """A 784-100-10 network trained for one epoch on the bundled subset with
    the numpy reference path (a few seconds): ``(weights, cfg)``."""
    from lava_balanced import Config, train
    cfg = Config().override(**{"training.n_hidden": 100, "training.epochs": 1})
    res = train(cfg, bundled, backend="reference", evaluate_test=False)
    return res.weights, res.config
