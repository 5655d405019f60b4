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
