"""Training end to end: Lava learns, checkpoints resume exactly, the CLI and
API work, bad input is refused."""

import numpy as np
import pytest

from lava_balanced import Config, evaluate, load_model, train
from lava_balanced.cli import main
from lava_balanced.training import CHECKPOINT_NAME, load_checkpoint

pytestmark = pytest.mark.timeout(900)


def _tiny(**over):
    base = {"training.n_hidden": 20, "training.batch_size": 16, "training.epochs": 2,
            "training.n_train": 96, "training.n_test": 50, "training.checkpoint_every": 2,
            "encoding.t_free": 6, "encoding.t_nudge": 6}
    base.update(over)
    return Config().override(**base)


class _Stop(Exception):
    pass


@pytest.mark.parametrize("backend", ["lava", "reference"])
def test_resume_ends_with_the_uninterrupted_weights(tmp_path, bundled, backend):
    cfg = _tiny()
    full = train(cfg, bundled, out_dir=tmp_path / "full", backend=backend, evaluate_test=False)

    def interrupt(info):
        if info["checkpoint"] and info["batch"] >= 6:
            raise _Stop()

    with pytest.raises(_Stop):
        train(cfg, bundled, out_dir=tmp_path / "cut", backend=backend, progress=interrupt, evaluate_test=False)
    _, _, next_batch, _, _ = load_checkpoint(tmp_path / "cut" / CHECKPOINT_NAME)
    assert 0 < next_batch < 12
    resumed = train(cfg, bundled, out_dir=tmp_path / "cut", backend=backend, resume=True, evaluate_test=False)
    np.testing.assert_array_equal(resumed.weights.w_in, full.weights.w_in)
    np.testing.assert_array_equal(resumed.weights.w_out, full.weights.w_out)
    assert resumed.train_accuracy == full.train_accuracy
    assert not (tmp_path / "cut" / CHECKPOINT_NAME).exists()  # superseded by model.npz


def test_symmetric_nudging_trains_the_same_in_lava_and_numpy(bundled):
    # the whole train() path: the configuration selects the three-phase cycle
    cfg = _tiny(**{"learning.nudging": "symmetric", "learning.supervision": "softmax",
                   "neuron.output_spikes": False, "encoding.readout": "potential", "training.epochs": 1})
    lava = train(cfg, bundled, backend="lava", evaluate_test=False)
    ref = train(cfg, bundled, backend="reference", evaluate_test=False)
    positive = train(cfg.override(**{"learning.nudging": "positive"}), bundled, backend="reference",
                     evaluate_test=False)
    np.testing.assert_array_equal(lava.weights.w_in, ref.weights.w_in)
    np.testing.assert_array_equal(lava.weights.w_out, ref.weights.w_out)
    assert not np.array_equal(ref.weights.w_in, positive.weights.w_in)
    ref.weights.check()  # Dale's law held


def test_resume_refuses_another_configuration(tmp_path, bundled):
    cfg = _tiny()
    with pytest.raises(_Stop):
        train(cfg, bundled, out_dir=tmp_path, backend="reference", evaluate_test=False,
              progress=lambda i: (_ for _ in ()).throw(_Stop()) if i["checkpoint"] else None)
    with pytest.raises(ValueError, match="different configuration"):
        train(cfg.override(**{"learning.eta0": 0.5}), bundled, out_dir=tmp_path, backend="reference", resume=True)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        train(cfg, bundled, out_dir=tmp_path / "empty", backend="reference", resume=True)


def test_annealed_rate_resumes_exactly_and_refuses_other_epochs(tmp_path, bundled):
    # learning.lr_anneal: the rate reaches 0 at the end of training.epochs
    # epochs, so an interrupted run resumes exactly and a resume with another
    # number of epochs (another schedule) is refused
    cfg = _tiny(**{"learning.lr_anneal": True})
    full = train(cfg, bundled, backend="reference", evaluate_test=False)
    plain = train(_tiny(), bundled, backend="reference", evaluate_test=False)
    assert not np.array_equal(full.weights.w_in, plain.weights.w_in)

    def interrupt(info):
        if info["checkpoint"] and info["batch"] >= 6:
            raise _Stop()

    with pytest.raises(_Stop):
        train(cfg, bundled, out_dir=tmp_path, backend="reference", progress=interrupt, evaluate_test=False)
    with pytest.raises(ValueError, match="lr_anneal.*same number"):
        train(cfg.override(**{"training.epochs": 3}), bundled, out_dir=tmp_path, backend="reference",
              resume=True, evaluate_test=False)
    resumed = train(cfg, bundled, out_dir=tmp_path, backend="reference", resume=True, evaluate_test=False)
    np.testing.assert_array_equal(resumed.weights.w_in, full.weights.w_in)
    np.testing.assert_array_equal(resumed.weights.w_out, full.weights.w_out)


def test_lava_and_reference_evaluate_identically(bundled):
    cfg = _tiny(**{"training.epochs": 1})
    res = train(cfg, bundled, backend="reference", evaluate_test=False)
    a = evaluate(res.weights, cfg, bundled, backend="lava")
    b = evaluate(res.weights, cfg, bundled, backend="reference")
    np.testing.assert_array_equal(a.predictions, b.predictions)
    assert a.confusion.sum() == 50


def test_training_in_lava_learns_mnist(mnist):
    """784-100-10 in Lava on 6,000 MNIST training images, one epoch, tested
    on the first 2,000 test images: well above the 10 % of chance."""
    cfg = Config().override(**{"training.n_train": 6000, "training.n_test": 2000})
    res = train(cfg, mnist, backend="lava")
    assert res.test.accuracy >= 0.65, res.test.accuracy  # measured: 0.692 (seed 0)
    res.weights.check()  # Dale's law held throughout


def test_too_few_samples_and_bad_backend(bundled):
    cfg = _tiny(**{"training.batch_size": 64, "training.n_train": 10})
    with pytest.raises(ValueError, match="fewer than one batch"):
        train(cfg, bundled, backend="reference")
    with pytest.raises(ValueError, match="backend"):
        train(_tiny(), bundled, backend="gpu")


def test_cli_train_then_evaluate(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["train", "--data", "bundled", "--out", str(out), "--hidden", "20", "--n-train", "128",
               "--n-test", "100", "--batch-size", "32", "--set", "encoding.t_free=6",
               "--set", "encoding.t_nudge=6", "--quiet"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "test accuracy:" in text and (out / "model.npz").exists() and (out / "config.toml").exists()
    weights, cfg, meta = load_model(out / "model.npz")
    assert cfg.training.n_hidden == 20 and 0 <= meta["test_accuracy"] <= 1
    rc = main(["evaluate", str(out / "model.npz"), "--data", "bundled", "--n-test", "100"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "test accuracy" in text and "confusion matrix" in text
    # the evaluation reproduces the accuracy measured at the end of training
    assert f"{meta['test_accuracy']:.4f}" in text


def test_cli_reports_bad_input(tmp_path, capsys):
    assert main(["train", "--p-inh", "1.5", "--out", str(tmp_path)]) == 2
    assert "inhibitory proportion" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path / "missing"), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    assert main(["evaluate", str(tmp_path / "junk.npz")]) == 2
    assert "junk.npz" in capsys.readouterr().err
