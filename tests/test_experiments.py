"""The experiment commands run (quick mode) and write their files; the STP
table agrees with the analytic steady state."""

import csv
import json

import pytest

from lava_balanced.cli import main

pytestmark = pytest.mark.timeout(600)


def test_stp_experiment_files_and_steady_state(tmp_path, capsys):
    assert main(["experiment", "stp", "--out", str(tmp_path), "--quick"]) == 0
    rows = list(csv.DictReader(open(tmp_path / "stp.csv")))
    assert [r["rate_hz"] for r in rows] == ["10", "100"]
    for r in rows:
        assert float(r["u_star_simulated"]) == pytest.approx(float(r["u_star_analytic"]), rel=1e-4)
        assert float(r["x_star_simulated"]) == pytest.approx(float(r["x_star_analytic"]), rel=1e-4)
    meta = json.loads((tmp_path / "stp.json").read_text())
    assert meta["paper"] == "Fig. 6" and meta["command"].startswith("lava-balanced experiment stp")
    assert (tmp_path / "stp.png").stat().st_size > 10_000


def test_inhibitory_experiment_quick(tmp_path, capsys):
    assert main(["experiment", "inhibitory", "--out", str(tmp_path), "--quick", "--data", "bundled",
                 "--quiet"]) == 0
    rows = list(csv.DictReader(open(tmp_path / "inhibitory.csv")))
    assert [float(r["p_inh"]) for r in rows] == [0.0, 0.3, 1.0]
    assert all(0.0 <= float(r["test_accuracy"]) <= 1.0 for r in rows)
    assert (tmp_path / "inhibitory.png").exists()
    assert json.loads((tmp_path / "inhibitory.json").read_text())["backend"] == "reference"


def test_ablation_experiment_quick(tmp_path, capsys):
    assert main(["experiment", "ablation", "--out", str(tmp_path), "--quick", "--data", "bundled",
                 "--quiet"]) == 0
    rows = list(csv.DictReader(open(tmp_path / "ablation.csv")))
    assert [r["variant"] for r in rows] == ["MP only", "MP + FF LIF", "MP + FF + STP + 30% inh."]
    assert [float(r["paper_accuracy"]) for r in rows] == [0.58, 0.89, 0.979]


def test_table1_experiment_quick(tmp_path, capsys):
    assert main(["experiment", "table1", "--out", str(tmp_path), "--quick", "--data", "bundled", "--quiet"]) == 0
    rows = list(csv.DictReader(open(tmp_path / "table1.csv")))
    assert [int(r["n_hidden"]) for r in rows] == [10, 40]
    assert all(float(r["peak_rss_mib"]) > 0 for r in rows)


def test_scaling_keeps_per_neuron_magnitudes():
    from lava_balanced import Config
    from lava_balanced.experiments import scaled_for_hidden

    c = scaled_for_hidden(Config(), 6400)
    assert c.training.n_hidden == 6400
    assert c.learning.init_out * 6400 == pytest.approx(Config().learning.init_out * 100)
    assert c.learning.eta0 * c.learning.lr_hidden_scale == pytest.approx(Config().learning.eta0)


def test_unknown_experiment_is_refused():
    with pytest.raises(SystemExit):
        main(["experiment", "fig99"])


def test_mp_curve_experiment_quick(tmp_path, capsys):
    from lava_balanced import Config
    from lava_balanced.data import load_dataset
    from lava_balanced.experiments import ABLATION
    from lava_balanced.training import train

    assert main(["experiment", "mp_curve", "--out", str(tmp_path), "--quick", "--data", "bundled",
                 "--quiet"]) == 0
    for ext in ("csv", "json", "png"):
        assert (tmp_path / f"mp_curve.{ext}").exists()
    rows = list(csv.DictReader(open(tmp_path / "mp_curve.csv")))
    assert list(rows[0]) == ["variant", "batch", "images_seen", "train_accuracy_window",
                             "train_accuracy_cumulative", "test_accuracy_subset", "train_seconds"]
    assert [v for v in dict.fromkeys(r["variant"] for r in rows)] == ["MP only", "MP + FF + STP + 30% inh."]
    for variant in ("MP only", "MP + FF + STP + 30% inh."):
        vr = [r for r in rows if r["variant"] == variant]
        batches = [int(r["batch"]) for r in vr]
        assert batches == sorted(set(batches)) and batches[0] == 0 and batches[-1] == 4  # 256 // 64
        assert [int(r["images_seen"]) for r in vr] == [64 * b for b in batches]
        for r in vr:
            assert 0.0 <= float(r["test_accuracy_subset"]) <= 1.0
            for col in ("train_accuracy_window", "train_accuracy_cumulative"):
                if r["batch"] != "0":
                    assert 0.0 <= float(r[col]) <= 1.0
    meta = json.loads((tmp_path / "mp_curve.json").read_text())
    assert meta["paper"] == "Fig. 3" and meta["command"].startswith("lava-balanced experiment mp_curve")
    assert "first 50 test images" in meta["test_subset"]
    assert meta["variants"]["MP only"] == dict((n, o) for n, _, o in ABLATION)["MP only"]
    # the chunked run ends where an uninterrupted training run ends
    cfg = Config().override(**{"training.n_train": 256, "training.n_test": 100, "training.n_hidden": 20,
                               "encoding.t_free": 6, "encoding.t_nudge": 6, **meta["variants"]["MP only"]})
    res = train(cfg, load_dataset("bundled"), backend="reference")
    mp = meta["final"]["MP only"]
    assert mp["test_accuracy_full"] == round(res.test.accuracy, 4) and mp["n_test_full"] == 100
    assert mp["train_accuracy_online_last_epoch"] == round(res.train_accuracy, 4)


def test_mp_curve_eval_every_sets_the_test_points(tmp_path):
    assert main(["experiment", "mp_curve", "--out", str(tmp_path), "--quick", "--data", "bundled",
                 "--quiet", "--eval-every", "3"]) == 0
    rows = list(csv.DictReader(open(tmp_path / "mp_curve.csv")))
    for variant in ("MP only", "MP + FF + STP + 30% inh."):
        # 4 batches in the quick mode: points after 3 and at the end (the last chunk is shorter)
        assert [int(r["batch"]) for r in rows if r["variant"] == variant] == [0, 3, 4]
    assert json.loads((tmp_path / "mp_curve.json").read_text())["eval_every_batches"] == 3


def test_eval_every_is_refused_where_it_means_nothing(tmp_path):
    from lava_balanced.experiments import run_experiment

    with pytest.raises(ValueError, match="mp_curve experiment only"):
        run_experiment("stp", out=tmp_path, quick=True, eval_every=5)
    with pytest.raises(ValueError, match="positive number of batches"):
        run_experiment("mp_curve", out=tmp_path, quick=True, data="bundled", eval_every=0)
