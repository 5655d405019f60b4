"""The selection and diagnostic tools behind docs/results.md: the validation
split never touches the test set and trains exactly what ``train`` trains;
the ceiling diagnostic keeps its constraints."""

import importlib.util

import numpy as np
import pytest

from lava_balanced import Config, train
from lava_balanced.data import load_bundled
from lava_balanced.training import evaluate
from tests.conftest import ROOT

pytestmark = pytest.mark.timeout(300)


def _tool(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_validation_split_is_carved_from_the_training_images(mnist):
    validate = _tool("validate")
    ds = validate.validation_split(mnist)
    assert len(ds.train_images) == 50000 and len(ds.test_images) == 10000
    assert np.array_equal(ds.train_images, mnist.train_images[:50000])
    assert np.array_equal(ds.test_images, mnist.train_images[50000:])
    assert np.array_equal(ds.test_labels, mnist.train_labels[50000:])
    small = validate.validation_split(mnist, n_train=300)
    assert len(small.train_images) == 300 and np.array_equal(small.test_images, ds.test_images)
    with pytest.raises(ValueError, match="more than 10000 training images"):
        validate.validation_split(load_bundled())


def test_train_and_validate_ends_with_the_weights_train_ends_with(mnist):
    validate = _tool("validate")
    cfg = Config().override(**{"training.n_hidden": 12, "training.epochs": 2, "training.batch_size": 32,
                               "encoding.t_free": 4, "encoding.t_nudge": 4})
    ds = validate.validation_split(mnist, n_train=96).subset(None, 64)
    seen = []
    weights, accs = validate.train_and_validate(cfg, ds, lambda e, acc: seen.append((e, acc)))
    expected = train(cfg, ds, backend="reference", evaluate_test=False).weights
    assert np.array_equal(weights.w_in, expected.w_in) and np.array_equal(weights.w_out, expected.w_out)
    assert len(accs) == 2 and seen == [(0, accs[0]), (1, accs[1])]
    assert accs[1] == evaluate(expected, cfg, ds, backend="reference", limit=False).accuracy


def test_ceiling_fit_keeps_its_constraints_and_learns(mnist):
    ceiling = _tool("ceiling")
    x = mnist.train_images[:2000].astype(np.float32) / 255
    y = mnist.train_labels[:2000]
    w, v, curve = ceiling.fit(x[:1500], y[:1500], x[1500:], y[1500:], hidden=20, epochs=2)
    assert np.all(w >= 0)                        # excitatory input layer
    assert np.all(v[:6] <= 0) and np.all(v[6:] >= 0)  # 30 % inhibitory rows, Dale's law
    assert len(curve) == 2 and curve[-1] > 0.5   # chance is 0.1
    w_s, _, _ = ceiling.fit(x[:1500], y[:1500], x[1500:], y[1500:], hidden=20, epochs=1, signed_input=True)
    assert np.any(w_s < 0)
    for loss in ("mse", "hinge"):
        _, _, c = ceiling.fit(x[:1500], y[:1500], x[1500:], y[1500:], hidden=20, epochs=3, lr=0.2, loss=loss)
        assert c[-1] > 0.4, loss  # chance is 0.1
    with pytest.raises(ValueError, match="loss must be one of"):
        ceiling.fit(x[:10], y[:10], x[:10], y[:10], loss="l1")
    # decay only acts from the second epoch on: lr / (1 + decay * e)
    a = ceiling.fit(x[:300], y[:300], x[1500:], y[1500:], hidden=20, epochs=1, decay=0.0)
    b = ceiling.fit(x[:300], y[:300], x[1500:], y[1500:], hidden=20, epochs=1, decay=1.0)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    a = ceiling.fit(x[:300], y[:300], x[1500:], y[1500:], hidden=20, epochs=2, decay=0.0)
    b = ceiling.fit(x[:300], y[:300], x[1500:], y[1500:], hidden=20, epochs=2, decay=1.0)
    assert not np.array_equal(a[0], b[0])
    # anneal scales minibatch k of K by 1 - k / K: the first (of one) is untouched, the second (of two) halved
    a = ceiling.fit(x[:64], y[:64], x[1500:], y[1500:], hidden=20, epochs=1, anneal=False)
    b = ceiling.fit(x[:64], y[:64], x[1500:], y[1500:], hidden=20, epochs=1, anneal=True)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    a = ceiling.fit(x[:128], y[:128], x[1500:], y[1500:], hidden=20, epochs=1, anneal=False)
    b = ceiling.fit(x[:128], y[:128], x[1500:], y[1500:], hidden=20, epochs=1, anneal=True)
    assert not np.array_equal(a[0], b[0])


@pytest.mark.parametrize("name,keys", [
    ("best-100.toml", {("neuron", "inhibition"), ("neuron", "output_spikes"), ("encoding", "readout"),
                       ("learning", "supervision"), ("learning", "output_pre"), ("learning", "lr_hidden_scale"),
                       ("learning", "eta_c"), ("learning", "eta1"), ("learning", "lr_decay_batches"),
                       ("learning", "lr_anneal"), ("training", "epochs")}),
    ("best-100-one-sided.toml", {("learning", "supervision"), ("learning", "lr_hidden_scale"),
                                 ("learning", "eta1"), ("training", "epochs")}),
])
def test_best_config_loads_and_names_only_what_it_changes(name, keys):
    """configs/best-100.toml (the documented best 100-hidden run) and
    configs/best-100-one-sided.toml (the best with the paper's cost) stay
    valid configurations that change exactly the keys docs/results.md lists."""
    cfg = Config.load(ROOT / "configs" / name)
    default, best = Config().to_dict(), cfg.to_dict()
    changed = {(s, k) for s in default for k in default[s] if default[s][k] != best[s][k]}
    assert changed == keys
    assert cfg.training.n_hidden == 100 and cfg.training.seed == 0


@pytest.mark.parametrize("name,hidden,changes", [
    ("best-400.toml", 400, {}),
    ("best-1600.toml", 1600, {}),
    # eta0 halved on validation (under best-100's earlier schedule), four epochs
    ("best-6400.toml", 6400, {"learning.eta0": 0.2 * 100 / 6400 / 2, "training.epochs": 4}),
    # twice the training, nothing else (rescaling to 100 neurons changes nothing)
    ("best-100-long.toml", 100, {"training.epochs": 32}),
    # best-400.toml and best-6400.toml with twice the training
    ("best-400-long.toml", 400, {"training.epochs": 32}),
    ("best-6400-long.toml", 6400, {"learning.eta0": 0.2 * 100 / 6400 / 2, "training.epochs": 8}),
    # symmetric nudging (chosen on validation at 100 hidden), nothing else
    ("best-100-symmetric.toml", 100, {"learning.nudging": "symmetric"}),
    ("best-100-symmetric-64.toml", 100, {"learning.nudging": "symmetric", "training.epochs": 64}),
    ("best-400-long-symmetric.toml", 400, {"training.epochs": 32, "learning.nudging": "symmetric"}),
    # and the epochs doubled again (chosen on validation at 100 hidden)
    ("best-400-symmetric-64.toml", 400, {"training.epochs": 64, "learning.nudging": "symmetric"}),
])
def test_derived_best_configs_are_the_rescaled_best_100(name, hidden, changes):
    """configs/best-400.toml, best-1600.toml, best-6400.toml,
    best-100-long.toml, best-400-long.toml, best-6400-long.toml,
    best-100-symmetric.toml, best-100-symmetric-64.toml,
    best-400-long-symmetric.toml and best-400-symmetric-64.toml are what their comments and docs/results.md say:
    configs/best-100.toml rescaled as Table 1 rescales it, with the named
    changes."""
    from lava_balanced.experiments import scaled_for_hidden
    best = Config.load(ROOT / "configs" / "best-100.toml")
    assert Config.load(ROOT / "configs" / name) == scaled_for_hidden(best, hidden).override(**changes)


def test_validate_cli_rescales_for_another_hidden_size(tmp_path, mnist, monkeypatch):
    validate = _tool("validate")
    seen = {}
    monkeypatch.setattr(validate, "train_and_validate",
                        lambda cfg, ds, on_epoch=None: (seen.update(cfg=cfg, n=len(ds.train_images)) or (None, [0.5])))
    log = tmp_path / "log.jsonl"
    from tests.conftest import SHARED_MNIST
    assert validate.main(["--data", str(SHARED_MNIST), "--config", str(ROOT / "configs" / "best-100.toml"),
                          "--hidden", "400", "--set", "learning.eta_c=0.3", "--epochs", "1", "--n-train", "64",
                          "--log", str(log)]) == 0
    cfg = seen["cfg"]
    assert cfg.training.n_hidden == 400 and seen["n"] == 64
    assert cfg.learning.eta0 == pytest.approx(0.2 / 4) and cfg.learning.lr_hidden_scale == pytest.approx(64)
    assert cfg.learning.eta_mp == pytest.approx(4.0) and cfg.learning.eta_c == 0.3  # --set after the rescaling
    assert '"hidden": 400' in log.read_text()


def test_validate_t_eval_reclassifies_the_trained_weights_with_longer_windows(tmp_path, mnist, monkeypatch):
    """--t-eval classifies the held-out images again with the final weights,
    changing only the free phase's length, and logs each accuracy."""
    validate = _tool("validate")
    trained = object()
    seen = []

    class Result:
        def __init__(self, t):
            self.accuracy = t / 1000

    def fake_evaluate(weights, cfg, ds, backend, limit):
        assert weights is trained and backend == "reference" and not limit and len(ds.test_images) == 10000
        seen.append((cfg.encoding.t_free, cfg.encoding.t_nudge))
        return Result(cfg.encoding.t_free)

    monkeypatch.setattr(validate, "train_and_validate", lambda cfg, ds, on_epoch=None: (trained, [0.5]))
    monkeypatch.setattr(validate, "evaluate", fake_evaluate)
    log = tmp_path / "log.jsonl"
    from tests.conftest import SHARED_MNIST
    assert validate.main(["--data", str(SHARED_MNIST), "--config", str(ROOT / "configs" / "best-100.toml"),
                          "--epochs", "1", "--n-train", "64", "--t-eval", "32", "64", "--log", str(log)]) == 0
    assert seen == [(32, 16), (64, 16)]
    assert '"t_eval": {"32": 0.032, "64": 0.064}' in log.read_text()
