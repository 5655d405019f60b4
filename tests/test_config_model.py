"""Configuration validation and the model file: clear errors, atomic saves."""

import numpy as np
import pytest

from lava_balanced.config import Config, ConfigError
from lava_balanced.model import DaleViolation, Weights, init_weights, load_model, save_model


@pytest.mark.parametrize("key,value,match", [
    ("neuron.tau_m", -1.0, "tau_m must be a positive"),
    ("synapse.tau_f", 0.0, "tau_f must be a positive"),
    ("training.p_inh", 1.5, r"inhibitory proportion\) must lie in \[0, 1\]"),
    ("training.p_inh", -0.1, "must lie in"),
    ("training.n_hidden", 0, "n_hidden must be a positive integer"),
    ("learning.eta1", 1.0, "eta1 must lie in"),
    ("encoding.max_rate", 0.0, "max_rate must lie in"),
    ("neuron.v_th", -1.0, "must exceed v_leak"),
    ("neuron.dt", float("nan"), "dt must be a positive"),
    ("learning.supervision", "hinge", "supervision must be one of"),
    ("learning.softmax_cut", 1.5, r"softmax_cut must lie in \(0, 1\]"),
    ("learning.output_pre", "both", "output_pre must be 'nudged' or 'free'"),
    ("learning.nudging", "negative", "nudging must be 'positive' or 'symmetric'"),
])
def test_bad_values_are_refused(key, value, match):
    with pytest.raises(ConfigError, match=match):
        Config().override(**{key: value})


def test_unknown_keys_are_refused(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text("[training]\nn_hiden = 5\n")
    with pytest.raises(ConfigError, match="unknown key"):
        Config.load(p)
    p.write_text("[trainin]\n")
    with pytest.raises(ConfigError, match="unknown config section"):
        Config.load(p)
    p.write_text("[training\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        Config.load(p)


def test_toml_roundtrip(tmp_path):
    cfg = Config().override(**{"training.n_hidden": 7, "synapse.stp": False, "learning.eta0": 0.25})
    cfg.save(tmp_path / "c.toml")
    assert Config.load(tmp_path / "c.toml") == cfg


def test_init_weights_obey_dale_and_proportion():
    cfg = Config().override(**{"training.n_hidden": 50, "training.p_inh": 0.4})
    w = init_weights(cfg)
    assert (w.hidden_sign < 0).sum() == 20
    assert (w.w_in > 0).all()
    assert (w.w_out * w.hidden_sign[:, None] > 0).all()


def test_weights_refuse_violations_and_nan():
    cfg = Config().override(**{"training.n_hidden": 4})
    w = init_weights(cfg)
    bad = w.w_out.copy()
    bad[np.argmax(w.hidden_sign > 0), 0] = -0.1
    with pytest.raises(DaleViolation, match="wrong sign"):
        Weights(w.w_in, bad, w.hidden_sign)
    with pytest.raises(DaleViolation, match="input synapses are excitatory"):
        Weights(-w.w_in, w.w_out, w.hidden_sign)
    nan = w.w_in.copy()
    nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Weights(nan, w.w_out, w.hidden_sign)
    with pytest.raises(ValueError, match="disagree on the hidden size"):
        Weights(w.w_in[:, :3], w.w_out, w.hidden_sign)


def test_model_roundtrip_and_corrupt_file(tmp_path):
    cfg = Config().override(**{"training.n_hidden": 5})
    w = init_weights(cfg)
    save_model(tmp_path / "m.npz", w, cfg, {"test_accuracy": 0.5})
    w2, cfg2, meta = load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(w2.w_in, w.w_in)
    assert cfg2 == cfg and meta["test_accuracy"] == 0.5
    data = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.npz"):
        load_model(tmp_path / "cut.npz")
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporaries


def test_inhibition_mode_is_validated():
    import pytest as _pytest

    from lava_balanced import Config, ConfigError
    with _pytest.raises(ConfigError, match="inhibition"):
        Config().override(**{"neuron.inhibition": "subtractive"}).validate()
    assert Config().override(**{"neuron.inhibition": "current"}).validate().neuron.inhibition == "current"
