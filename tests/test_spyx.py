"""Spyx (JAX) importing an exported NIR graph: lava_balanced.exporters.spyx.

Skipped without the ``[jax]`` extra (spyx, jax, dm-haiku)."""

import copy

import numpy as np
import pytest

pytest.importorskip("spyx")

import nir  # noqa: E402

from lava_balanced.data import load_bundled  # noqa: E402
from lava_balanced.deploy import DeployLayer, DeployNet, run_deploy  # noqa: E402
from lava_balanced.exporters.nir import to_nir  # noqa: E402
from lava_balanced.exporters.spyx import graph_encoding, spyx_network, spyx_predict  # noqa: E402

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def random_net():
    """A seeded 784-64-10 deploy network that spikes in both layers (about
    10 output spikes per sample, ties in about 1 sample in 10): every
    spike, reset and tie-break path of the readout is exercised. Built here,
    so the test needs no trained model."""
    rng = np.random.default_rng(1234)
    decay_mem, decay_syn = np.exp(-1 / 4.0), np.exp(-1 / 2.0)
    hidden = DeployLayer(weight=rng.uniform(0, 0.012, (784, 64)), decay_syn=decay_syn, decay_mem=decay_mem,
                         v_th=1.0)
    output = DeployLayer(weight=rng.normal(0.0, 0.035, (64, 10)), decay_syn=decay_syn, decay_mem=decay_mem,
                         v_th=rng.uniform(0.6, 1.0, 10))
    return DeployNet([hidden, output], t_steps=16, max_rate=0.8, seed=7)


@pytest.fixture(scope="module")
def images():
    ds = load_bundled()
    return ds.test_images[:300]


def test_nir_reset_agrees_with_run_deploy(random_net, images):
    graph = to_nir(random_net)
    before = [np.array(n.weight) for n in graph.nodes.values() if isinstance(n, nir.Linear)]
    pr, cr, vr = run_deploy(random_net, images, return_traces=True)
    assert cr.sum(axis=1).mean() > 2, "the test network should make the output layer spike"
    ps, cs, vs = spyx_predict(graph, images, reset="nir", batch_size=128, return_traces=True,
                              **graph_encoding(graph))
    # measured: 100 % of predictions and spike counts identical, potentials
    # within float32 rounding (~1e-7); 99 % is the acceptance level
    assert np.mean(ps == pr) >= 0.99
    assert np.mean(np.all(cs == cr, axis=1)) >= 0.99
    assert np.median(np.abs(vs - vr)) < 1e-5
    # spyx transposes weights in place: the caller's graph must be untouched
    after = [np.array(n.weight) for n in graph.nodes.values() if isinstance(n, nir.Linear)]
    assert all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(before, after))


def test_stock_spyx_runs_and_differs_only_by_its_reset(random_net, images):
    """Stock spyx's double subtraction changes spike counts of a spiking
    network (measured: 7 % of predictions differ here, 2.3 % on the MNIST
    test set with the 784-100-10 model, docs/results/spyx.json);
    it still classifies with the same encoding and readout."""
    graph = to_nir(random_net)
    pr = run_deploy(random_net, images)
    ps = spyx_predict(graph, images, reset="spyx", batch_size=128, **graph_encoding(graph))
    assert ps.shape == pr.shape and ps.dtype == np.int64
    assert np.mean(ps == pr) > 0.5


def _one_neuron_graph(w_nir, tau=2.0, v_th=1.0, v_reset=0.0):
    """input (1) -> Linear -> CubaLIF (1 neuron) -> output, with
    alpha = beta = 1 - 1/tau at dt = 1 and r = tau_mem / dt."""
    one = np.ones(1)
    return nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([1])}),
               "fc0": nir.Linear(weight=np.array([[w_nir]])),
               "lif0": nir.CubaLIF(tau_syn=tau * one, tau_mem=tau * one, r=tau * one, v_leak=0 * one,
                                   v_threshold=v_th * one, v_reset=v_reset * one, w_in=one),
               "output": nir.Output(output_type={"output": np.array([1])})},
        edges=[("input", "fc0"), ("fc0", "lif0"), ("lif0", "output")])


def _run_one(graph, inputs, reset):
    apply, params, info = spyx_network(graph, reset=reset, batch_size=1, n_steps=len(inputs))
    x = np.asarray(inputs, dtype=np.float32).reshape(1, -1, 1)
    spikes, states = apply(params, x)
    return np.asarray(spikes)[0, :, 0], np.asarray(states[-1])[0, :, 0], info


def test_single_neuron_delay_and_reset_semantics():
    """Hand-computed, in exact binary fractions. alpha = beta = 0.5; spyx
    scales the NIR weight 1.5 by dt/tau_syn = 0.5, so an input spike adds
    0.75 to I. Input spikes at steps 0 and 1.

    NIR / run_deploy:  t0: I=.75 V=.75;  t1: I=1.125 V=1.5 > 1 -> spike, V<-0;
                       t2: I=.5625 V=.5625;  t3: I=.28125 V=.5625
    spyx (either reset): the spike of t1 leaves at step 2 (spike from the
    previous step's potential); its state V is the pre-reset potential.
    stock spyx at step 2: V = .5 (V - th) * .5 + I - th = .25 + .5625 - 1 = -.1875,
                 step 3: V = -.09375 + .28125 = .1875
    reset="nir":   step 2: V = 0 * .5 + .5625 = .5625, step 3: .5625 (= NIR).
    """
    graph = _one_neuron_graph(1.5)
    inputs = [1, 1, 0, 0, 0]
    s_nir, v_nir, info = _run_one(graph, inputs, "nir")
    s_spyx, v_spyx, _ = _run_one(graph, inputs, "spyx")
    assert info["n_layers"] == 1
    np.testing.assert_array_equal(s_nir, [0, 0, 1, 0, 0])
    np.testing.assert_array_equal(s_spyx, [0, 0, 1, 0, 0])
    np.testing.assert_array_equal(v_nir[:4], [0.75, 1.5, 0.5625, 0.5625])
    np.testing.assert_array_equal(v_spyx[:4], [0.75, 1.5, -0.1875, 0.1875])

    # the numpy reference of the same graph: the spike one step earlier
    from lava_balanced.exporters.nir import from_nir
    net = from_nir(copy.deepcopy(graph))
    L = net.layers[0]
    i, v = np.zeros((1, 1)), np.zeros((1, 1))
    ref_s, ref_v = [], []
    for s_in in inputs:
        i, v, s = L.step(i, v, np.array([[s_in]], dtype=float))
        ref_s.append(float(s[0, 0]))
        ref_v.append(float(v[0, 0]))
    np.testing.assert_array_equal(ref_s, [0, 1, 0, 0, 0])
    np.testing.assert_array_equal(ref_v[:4], [0.75, 0.0, 0.5625, 0.5625])  # post-reset potential


def test_single_neuron_threshold_is_strict():
    """A potential equal to the threshold does not spike (as in NIR and
    run_deploy): one input adding I = 1 gives V = 1.0 at step 0 and
    V = .5 + .5 = 1.0 at step 1, then .75: no spike, in both modes."""
    graph = _one_neuron_graph(2.0)
    for reset in ("spyx", "nir"):
        s, v, _ = _run_one(graph, [1, 0, 0, 0], reset)
        np.testing.assert_array_equal(v[:3], [1.0, 1.0, 0.75])
        assert s.sum() == 0


def test_v_reset_is_honoured_by_the_nir_cell():
    graph = _one_neuron_graph(1.5, v_reset=-0.25)
    s, v, _ = _run_one(graph, [1, 1, 0, 0], "nir")
    # step 2: V <- -0.25, then V = .5 * -.25 + .5625 = .4375
    np.testing.assert_array_equal(s, [0, 0, 1, 0])
    assert v[2] == 0.4375


def test_spyx_from_nir_mutates_its_graph_and_we_copy():
    """The quirk spyx_network guards against: spyx.nir.from_nir transposes
    Linear weights of the graph it receives in place."""
    import jax.numpy as jnp
    import spyx.nir as snir

    graph = _one_neuron_graph(1.5)
    graph.nodes["fc0"] = nir.Linear(weight=np.array([[1.0, 2.0]]))  # (n_post=1, n_pre=2)
    graph.nodes["input"] = nir.Input(input_type={"input": np.array([2])})
    theirs = copy.deepcopy(graph)
    snir.from_nir(theirs, jnp.zeros((1, 2, 2)), 1.0)
    assert theirs.nodes["fc0"].weight.shape == (2, 1)
    spyx_network(graph, batch_size=1, n_steps=2)
    assert graph.nodes["fc0"].weight.shape == (1, 2)


def test_missing_extra_message(monkeypatch):
    import builtins

    from lava_balanced.exporters import spyx as mod

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("spyx"):
            raise ImportError("no spyx")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"\[jax\]"):
        mod.require_spyx()


def test_a_non_firing_output_layer_is_refused_by_name(random_net, images):
    """Spyx 0.1.20 imports no CubaLI node: a graph with a non-firing output
    layer (``v_th = inf``) is refused with its nodes named, not mis-run."""
    layers = [copy.deepcopy(random_net.layers[0]), copy.deepcopy(random_net.layers[1])]
    layers[1].v_th = np.full(10, np.inf)
    graph = to_nir(DeployNet(layers, t_steps=16, max_rate=0.8, seed=7, readout="potential"))
    assert isinstance(graph.nodes["lif1"], nir.CubaLI)
    with pytest.raises(ValueError, match="CubaLIF nodes only.*lif1"):
        spyx_predict(graph, images[:4])
