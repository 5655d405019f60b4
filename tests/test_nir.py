"""NIR export and import: parameters, the dt convention, Dale's law, hand-written
graphs with every supported primitive, unsupported graphs, and the round trip
through a file into Lava."""

import json

import nir
import numpy as np
import pytest

from lava_balanced import DaleViolation, reference
from lava_balanced import equations as eq
from lava_balanced.deploy import DeployLayer, DeployNet, evaluate_deploy, from_trained, run_deploy
from lava_balanced.exporters.nir import (UnsupportedNIRGraph, describe, export_nir, from_nir, read_nir, to_nir,
                                         write_nir)

FIELDS = ("weight", "bias", "decay_syn", "decay_mem", "gain", "v_leak", "v_th", "v_reset")


@pytest.fixture(scope="module")
def deploy_net(trained_bundled, bundled):
    weights, cfg = trained_bundled
    return from_trained(weights, cfg, stp="calibrated", calibration_images=bundled.train_images[:500])


def test_round_trip_through_a_file_keeps_every_parameter(deploy_net, tmp_path):
    path = tmp_path / "net.nir"
    write_nir(path, to_nir(deploy_net))
    back = from_nir(nir.read(str(path)))
    assert back.dt == deploy_net.dt and back.t_steps == deploy_net.t_steps
    assert back.max_rate == deploy_net.max_rate and back.seed == deploy_net.seed
    for a, b in zip(deploy_net.layers, back.layers):
        for f in FIELDS:
            np.testing.assert_allclose(getattr(b, f), getattr(a, f), rtol=1e-12, atol=1e-15, err_msg=f)
        np.testing.assert_array_equal(b.pre_sign, a.pre_sign)


def test_round_trip_into_lava_predicts_what_the_exported_network_predicts(deploy_net, bundled, tmp_path):
    path = tmp_path / "net.nir"
    write_nir(path, to_nir(deploy_net))
    images, labels = bundled.test_images[:300], bundled.test_labels[:300]
    lava = evaluate_deploy(from_nir(read_nir(path)), images, labels, backend="lava", batch_size=100,
                           timeout=240)
    np.testing.assert_array_equal(lava.predictions, run_deploy(deploy_net, images))
    assert lava.accuracy > 0.5


def test_hidden_layer_mapping_is_exact(trained_bundled, deploy_net, bundled):
    """The trained hidden layer (conductance eq. 1 with no inhibitory input,
    no STP) and its deployable form spike identically."""
    weights, cfg = trained_bundled
    images = bundled.test_images[:50]
    rec = reference.record(weights, cfg, images, seed=cfg.training.seed)
    from lava_balanced import kernels as K
    uni = K.encoder_uniforms(cfg.training.seed, 0, np.arange(50), cfg.encoding.t_free, 784)
    layer = deploy_net.layers[0]
    i, v = np.zeros((50, layer.n_post)), np.zeros((50, layer.n_post))
    x = images.astype(np.float32) / np.float32(255)
    for t in range(cfg.encoding.t_free):
        s = K.encode(uni[t], x, cfg.encoding.max_rate)
        np.testing.assert_array_equal(s, rec["s_in"][t])
        i, v, spikes = layer.step(i, v, s)
        np.testing.assert_array_equal(spikes, rec["s_h"][t].astype(bool))
        np.testing.assert_allclose(v, rec["v_h"][t], atol=1e-12)


def test_dt_convention_on_a_single_neuron():
    """CubaLIF and LIF at dt = 0.5 ms against NIR's equations stepped by hand
    (forward Euler, input held over the step, current before potential)."""
    dt, tau_syn, tau_mem, r, v_leak, v_th, w_in, w = 0.5, 2.0, 4.0, 1.5, 0.1, 1.0, 2.0, 0.8
    graph = nir.NIRGraph.from_list(
        nir.Input(input_type={"input": np.array([1])}),
        nir.Linear(weight=np.array([[w]])),
        nir.CubaLIF(tau_syn=np.array([tau_syn]), tau_mem=np.array([tau_mem]), r=np.array([r]),
                    v_leak=np.array([v_leak]), v_threshold=np.array([v_th]), v_reset=np.array([0.0]),
                    w_in=np.array([w_in])),
        nir.Output(output_type={"output": np.array([1])}))
    layer = from_nir(graph, dt=dt).layers[0]
    spikes_in = [1, 1, 0, 1, 1, 1, 0, 0, 1, 1]
    i, v = 0.0, v_leak
    ci, cv = np.zeros((1, 1)), np.array([[v_leak]])   # the layer's current and potential
    li, lv = np.zeros((1, 1)), np.array([[v_leak]])
    fired = 0
    for s in spikes_in:
        i = i + dt / tau_syn * (-i + w_in * w * s)
        v = v + dt / tau_mem * (v_leak - v + r * i)
        z = v > v_th
        v = 0.0 if z else v
        fired += z
        ci, cv, out = layer.step(ci, cv, np.array([[s]], dtype=np.int8))
        assert ci[0, 0] == pytest.approx(i, abs=1e-12) and cv[0, 0] == pytest.approx(v, abs=1e-12)
        assert bool(out[0, 0]) == z
    assert fired >= 1  # the trace crossed the threshold at least once
    # LIF: the input enters the potential directly
    graph = nir.NIRGraph.from_list(
        nir.Input(input_type={"input": np.array([1])}), nir.Linear(weight=np.array([[w]])),
        nir.LIF(tau=np.array([tau_mem]), r=np.array([r]), v_leak=np.array([v_leak]),
                v_threshold=np.array([v_th]), v_reset=np.array([-0.2])),
        nir.Output(output_type={"output": np.array([1])}))
    layer = from_nir(graph, dt=dt).layers[0]
    v = v_leak
    for s in spikes_in:
        v = v + dt / tau_mem * (v_leak - v + r * w * s)
        z = v > v_th
        v = -0.2 if z else v
        li, lv, out = layer.step(li, lv, np.array([[s]], dtype=np.int8))
        assert lv[0, 0] == pytest.approx(v, abs=1e-12) and bool(out[0, 0]) == z


def test_hand_written_graph_with_every_primitive_runs_on_lava():
    """Input -> Affine -> Scale -> CubaLIF -> Linear -> LIF -> Output, written by
    hand (as another framework would), imported and run on Lava: the Lava run
    equals the numpy reference, and both equal a hand computation."""
    rng = np.random.default_rng(3)
    n_in, n_h, n_out = 12, 6, 3
    w1 = rng.uniform(-0.5, 1.5, (n_h, n_in))
    graph = nir.NIRGraph(
        nodes={
            "in": nir.Input(input_type={"input": np.array([n_in])}),
            "aff": nir.Affine(weight=w1, bias=np.full(n_h, 0.05)),
            "scale": nir.Scale(scale=np.linspace(0.5, 1.5, n_h)),
            "cuba": nir.CubaLIF(tau_syn=np.full(n_h, 2.0), tau_mem=np.full(n_h, 3.0), r=np.full(n_h, 3.0),
                                v_leak=np.zeros(n_h), v_threshold=np.full(n_h, 1.0), v_reset=np.zeros(n_h),
                                w_in=np.ones(n_h)),
            "lin": nir.Linear(weight=rng.uniform(-0.3, 1.0, (n_out, n_h))),
            "lif": nir.LIF(tau=np.full(n_out, 2.0), r=np.full(n_out, 2.0), v_leak=np.zeros(n_out),
                           v_threshold=np.full(n_out, 0.6), v_reset=np.zeros(n_out)),
            "out": nir.Output(output_type={"output": np.array([n_out])}),
        },
        edges=[("in", "aff"), ("aff", "scale"), ("scale", "cuba"), ("cuba", "lin"), ("lin", "lif"),
               ("lif", "out")])
    net = from_nir(graph, dt=1.0, t_steps=10, max_rate=0.8, seed=5)
    layer0 = net.layers[0]
    s = np.linspace(0.5, 1.5, n_h)
    np.testing.assert_allclose(layer0.weight, 0.5 * (s[:, None] * w1).T)   # dt/tau_syn * w_in * Scale * W
    np.testing.assert_allclose(layer0.bias, 0.5 * s * 0.05)
    np.testing.assert_allclose(layer0.decay_syn, 0.5)
    np.testing.assert_allclose(layer0.decay_mem, 1 - 1 / 3)
    np.testing.assert_allclose(layer0.gain, 1.0)                           # r dt / tau_mem
    np.testing.assert_allclose(net.layers[1].decay_syn, 0.0)
    np.testing.assert_allclose(net.layers[1].gain, 1.0)
    images = (rng.random((40, n_in)) * 255).astype(np.uint8)
    labels = rng.integers(0, n_out, 40)
    preds, counts, _ = run_deploy(net, images, return_traces=True)
    assert counts.sum() > 0
    lava = evaluate_deploy(net, images, labels, backend="lava", batch_size=8, timeout=240)
    np.testing.assert_array_equal(lava.predictions, preds)


def test_exporter_refuses_dale_violations(trained_bundled, deploy_net):
    weights, cfg = trained_bundled
    bad = weights.copy()
    j = int(np.argmax(bad.hidden_sign < 0))
    bad.w_out[j, 0] = 0.3  # an inhibitory neuron with an excitatory synapse
    with pytest.raises(DaleViolation, match="hidden neuron"):
        export_nir(bad, cfg, stp="first")
    layer = deploy_net.layers[1]
    w = layer.weight.copy()
    w[j, 1] = abs(w[j, 1]) + 0.1
    with pytest.raises(DaleViolation, match="inhibitory"):
        DeployLayer(weight=w, pre_sign=layer.pre_sign)
    # an imported graph whose recorded signs are broken is refused too
    graph = to_nir(deploy_net)
    graph.nodes["fc1"].weight = graph.nodes["fc1"].weight.copy()
    graph.nodes["fc1"].weight[1, j] = 1.0
    with pytest.raises(DaleViolation):
        from_nir(graph)


def _tiny(middle):
    return nir.NIRGraph.from_list(nir.Input(input_type={"input": np.array([2])}), *middle,
                                  nir.Output(output_type={"output": np.array([2])}))


def test_unsupported_primitives_and_topologies_are_named():
    lif = nir.LIF(tau=np.ones(2) * 2, r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2))
    with pytest.raises(UnsupportedNIRGraph, match="Delay"):
        from_nir(_tiny([nir.Linear(weight=np.eye(2)), nir.Delay(delay=np.ones(2)), lif]))
    with pytest.raises(UnsupportedNIRGraph, match="IF"):
        from_nir(_tiny([nir.Linear(weight=np.eye(2)), nir.IF(r=np.ones(2), v_threshold=np.ones(2))]))
    with pytest.raises(UnsupportedNIRGraph, match="CubaLIF or CubaLI layer last"):
        from_nir(_tiny([lif, nir.Linear(weight=np.eye(2))]))
    branching = nir.NIRGraph(
        nodes={"in": nir.Input(input_type={"input": np.array([2])}), "a": nir.Linear(weight=np.eye(2)),
               "b": nir.Linear(weight=np.eye(2)), "lif": lif,
               "out": nir.Output(output_type={"output": np.array([2])})},
        edges=[("in", "a"), ("in", "b"), ("a", "lif"), ("b", "lif"), ("lif", "out")])
    with pytest.raises(UnsupportedNIRGraph, match="feed-forward chains"):
        from_nir(branching)
    with pytest.raises(ValueError, match="smaller dt"):
        from_nir(_tiny([nir.Linear(weight=np.eye(2)), lif]), dt=5.0)
    nan = nir.LIF(tau=np.ones(2) * 2, r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="NaN"):
        from_nir(_tiny([nir.Linear(weight=np.eye(2)), nan]))


def test_corrupt_and_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_nir(tmp_path / "none.nir")
    bad = tmp_path / "bad.nir"
    bad.write_bytes(b"not hdf5 at all")
    with pytest.raises(ValueError, match="not a readable NIR file"):
        read_nir(bad)


def test_deploy_layer_validates_its_input():
    with pytest.raises(ValueError, match="decay_mem must lie in"):
        DeployLayer(weight=np.ones((2, 2)), decay_mem=1.5)
    with pytest.raises(ValueError, match="NaN"):
        DeployLayer(weight=np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="expects 3 inputs"):
        DeployNet([DeployLayer(weight=np.ones((2, 2))), DeployLayer(weight=np.ones((3, 1)))])


def test_cuba_equations_match_the_trained_neuron_without_conductance():
    """cuba_membrane_step with decay exp(-dt/tau_m) and gain 1 - decay is eq. 1
    (lif_integrate) with g_E = g_I = 0."""
    rng = np.random.default_rng(0)
    v, i = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    d = np.exp(-1.0 / 2.0)
    np.testing.assert_allclose(eq.cuba_membrane_step(v, i, d, 1 - d, 0.2),
                               eq.lif_integrate(v, i, np.zeros_like(v), dt=1.0, tau_m=2.0, v_leak=0.2,
                                                v_exc=4.0, v_inh=-1.0, g_exc=0.0), atol=1e-12)


@pytest.mark.timeout(300)
def test_exactly_exportable_network_round_trips_to_the_trained_predictions(bundled, tmp_path):
    """Trained with current-based inhibition and without STP, the network has an
    exact NIR form: the NIR file, read back and run on Lava, predicts what the
    trained network predicts."""
    from lava_balanced import Config, train
    from lava_balanced.training import predict_reference
    cfg = Config().override(**{"training.n_hidden": 60, "training.epochs": 1, "training.n_train": 3000,
                               "neuron.inhibition": "current", "synapse.stp": False})
    weights = train(cfg, bundled, backend="reference", evaluate_test=False).weights
    path = tmp_path / "exact.nir"
    export_nir(weights, cfg, path)
    images, labels = bundled.test_images[:300], bundled.test_labels[:300]
    lava = evaluate_deploy(from_nir(read_nir(path)), images, labels, backend="lava", batch_size=100,
                           timeout=240)
    np.testing.assert_array_equal(lava.predictions, predict_reference(weights, cfg, images))


@pytest.mark.timeout(300)
def test_cli_export_to_nir_and_loihi(trained_bundled, tmp_path, capsys):
    from lava_balanced import save_model
    from lava_balanced.cli import main
    from lava_balanced.exporters.loihi import read_netx
    weights, cfg = trained_bundled
    model = tmp_path / "model.npz"
    save_model(model, weights, cfg)
    assert main(["export", str(model), "--to", "nir", str(tmp_path / "m.nir"), "--measure", "--n-test", "200",
                 "--calibration", "500", "--backend", "reference", "--json"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out.strip().splitlines()[-1])
    assert report["n_test"] == 200 and 0.5 < report["agreement"] <= 1.0
    assert len(from_nir(read_nir(tmp_path / "m.nir")).layers) == 2
    assert main(["export", str(model), str(tmp_path / "m.net"), "--to", "loihi", "--measure", "--n-test", "200",
                 "--calibration", "500"]) == 0
    assert "fixed_pt models" in capsys.readouterr().out
    assert read_netx(tmp_path / "m.net").n_out == 10
    assert main(["export", str(tmp_path / "missing.npz"), str(tmp_path / "x.nir"), "--to", "nir"]) == 2
    assert "missing.npz" in capsys.readouterr().err
    assert main(["evaluate-nir", str(tmp_path / "m.nir"), "--n-test", "100", "--backend", "reference"]) == 0
    assert "test accuracy" in capsys.readouterr().out


LI_OUTPUT = {"neuron.output_spikes": False, "encoding.readout": "potential", "learning.supervision": "softmax",
             "learning.output_pre": "free", "neuron.inhibition": "current", "synapse.stp": False}


@pytest.mark.timeout(300)
def test_non_firing_output_exports_as_cuba_li_and_round_trips(bundled, tmp_path):
    """A network trained with a non-firing output layer (leaky integrators
    read out by their potential) exports its output as a CubaLI node; read
    back and run on Lava it predicts what the trained network predicts."""
    from lava_balanced import Config, train
    from lava_balanced.training import predict_reference
    cfg = Config().override(**{"training.n_hidden": 60, "training.epochs": 1, "training.n_train": 3000,
                               **LI_OUTPUT})
    weights = train(cfg, bundled, backend="reference", evaluate_test=False).weights
    path = tmp_path / "li.nir"
    export_nir(weights, cfg, path)
    graph = read_nir(path)
    assert isinstance(graph.nodes["lif0"], nir.CubaLIF) and isinstance(graph.nodes["lif1"], nir.CubaLI)
    assert describe(graph) == "Input -> Linear -> CubaLIF -> Linear -> CubaLI -> Output"
    assert graph.metadata["readout"] == "potential"
    net = from_nir(graph)
    assert net.layers[0].fires and not net.layers[1].fires and np.all(np.isinf(net.layers[1].v_th))
    images, labels = bundled.test_images[:300], bundled.test_labels[:300]
    expected = predict_reference(weights, cfg, images)
    np.testing.assert_array_equal(run_deploy(net, images), expected)
    lava = evaluate_deploy(net, images, labels, backend="lava", batch_size=100, timeout=240)
    np.testing.assert_array_equal(lava.predictions, expected)


def test_non_firing_layer_must_be_all_or_nothing():
    with pytest.raises(ValueError, match="infinite for some neurons"):
        DeployLayer(weight=np.ones((2, 2)), v_th=np.array([1.0, np.inf]))
    with pytest.raises(ValueError, match="only \\+inf"):
        DeployLayer(weight=np.ones((2, 2)), v_th=-np.inf)
    L = DeployLayer(weight=np.full((1, 1), 5.0), v_th=np.inf, decay_mem=0.5, gain=1.0)
    i, v = L.initial_state(1)
    for k in range(3):  # V = 0.5 V + I with I = 5: 5, 7.5, 8.75 and never a spike
        i, v, s = L.step(i, v, np.ones((1, 1)))
        assert not s.any()
    assert v[0, 0] == 8.75
