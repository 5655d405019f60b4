"""Loihi-style fixed point: integer step functions, bit-exactness against
Lava's stock bit-accurate LIF + Dense, quantisation, the fixed_pt models, the
netx file."""

import warnings

import numpy as np
import pytest

from lava_balanced import equations as eq
from lava_balanced.deploy import DeployLayer, DeployNet, evaluate_deploy, from_trained
from lava_balanced.exporters.loihi import (SIGN_EXCITATORY, SIGN_INHIBITORY, SIGN_MIXED, LoihiLayer, LoihiNet,
                                           quantize, read_netx, write_netx)


# --------------------------------------------------------------------------
# (a) integer step functions, hand-computed
# --------------------------------------------------------------------------
def test_decay_rounds_toward_zero():
    # 5 * 2048 / 4096 = 2.5 -> 2; -5 -> -2 (sign-magnitude, not floor's -3)
    assert eq.loihi_decay(np.array([5, -5, 7, -7]), 2048).tolist() == [2, -2, 3, -3]
    assert eq.loihi_decay(np.array([1000, -1000]), 0).tolist() == [1000, -1000]
    assert eq.loihi_decay(np.array([1000, -1000]), 4096).tolist() == [0, 0]
    # 100 * 4095 / 4096 = 99.97 -> 99
    assert eq.loihi_decay(np.array([100]), 1).tolist() == [99]


def test_current_step_offset_shift_and_wrap():
    # du + 1 is the decay constant: du = 2047 halves; activation << 6
    assert eq.loihi_current_step(np.array([-5]), np.array([1]), 2047).tolist() == [-2 + 64]
    assert eq.loihi_current_step(np.array([7]), np.array([0]), 4095).tolist() == [0]
    top = 2 ** 23
    # exactly 2**23 is kept, one more wraps to -2**23 + 1; -2**23 wraps to +2**23
    assert eq.loihi_current_step(np.array([0]), np.array([top // 64]), 4095).tolist() == [top]
    assert eq.loihi_current_step(np.array([1]), np.array([top // 64]), 4095).tolist() == [top]  # 1 decays to 0
    u = eq.loihi_current_step(np.array([0, 0]), np.array([top // 64 + 1, -(top // 64)]), 4095)
    assert u.tolist() == [top + 64 - 2 * top, -top + 2 * top]


def test_membrane_step_clip_and_bias():
    assert eq.loihi_membrane_step(np.array([10]), np.array([3]), 2048, 4).tolist() == [5 + 3 + 4]
    lim = 2 ** 23 - 1
    assert eq.loihi_membrane_step(np.array([lim]), np.array([lim]), 0).tolist() == [lim]
    assert eq.loihi_membrane_step(np.array([-lim]), np.array([-lim]), 0).tolist() == [-lim]
    assert eq.loihi_bias(np.array([3, -3, 5]), np.array([2, 0, 7])).tolist() == [12, -3, 640]


def test_fire_is_strict_and_resets_to_zero():
    s, v = eq.loihi_fire(np.array([640, 641, -700, 0]), 10)
    assert s.tolist() == [False, True, False, False]
    assert v.tolist() == [640, 0, -700, 0]


def test_dense_accumulate_shift_and_sign_groups():
    s = np.array([[1, 1, 1]])
    w = np.array([[3], [5], [-3]])
    assert eq.loihi_dense_accumulate(s, w, 2).tolist() == [[20]]
    # one connection: floor(5 / 2) = 2; per sign mode: floor(8 / 2) + floor(-3 / 2) = 4 - 2
    assert eq.loihi_dense_accumulate(s, w, -1).tolist() == [[2]]
    modes = np.array([SIGN_EXCITATORY, SIGN_EXCITATORY, SIGN_INHIBITORY])
    assert eq.loihi_dense_accumulate(s, w, -1, modes).tolist() == [[2]]
    assert eq.loihi_dense_accumulate(np.array([[0, 1, 1]]), w, -1, modes).tolist() == [[2 - 2]]
    assert eq.loihi_dense_accumulate(np.array([[0, 1, 1]]), w, -1).tolist() == [[1]]


def test_prepared_dense_is_the_accumulation_step_after_step():
    """eq.LoihiDense (the fixed_pt BatchDense's prepared weights) gives the
    hand-computed sums above and, step after step, each sign mode's int64
    product shifted on its own; it keeps its own copy of the weights."""
    w = np.array([[3], [5], [-3]])
    modes = np.array([SIGN_EXCITATORY, SIGN_EXCITATORY, SIGN_INHIBITORY])
    dense = eq.LoihiDense(w, -1, modes)
    w[0, 0] = 100  # not seen by the prepared connection
    assert dense(np.array([[1, 1, 1]])).tolist() == [[2]]
    assert dense(np.array([[0, 1, 1]])).tolist() == [[2 - 2]]
    assert eq.LoihiDense(np.array([[3], [5], [-3]]), -1)(np.array([[0, 1, 1]])).tolist() == [[1]]
    rng = np.random.default_rng(4)
    w = rng.integers(-255, 256, (50, 30))
    modes = np.where(np.arange(50) < 15, SIGN_INHIBITORY, SIGN_EXCITATORY)
    for exp in (-3, 0, 2):
        dense = eq.LoihiDense(w, exp, modes)
        for _ in range(3):
            s = (rng.random((4, 50)) < 0.3).astype(np.int8)
            exact = sum(eq.loihi_shift(s[:, modes == m].astype(np.int64) @ w[modes == m], exp)
                        for m in (SIGN_INHIBITORY, SIGN_EXCITATORY))
            assert np.array_equal(dense(s), exact)
    with pytest.raises(ValueError, match="weight_mant must hold integer values"):
        eq.LoihiDense(np.array([[0.5]]), 0)


def test_integer_matmul_equals_the_int64_product():
    rng = np.random.default_rng(3)
    spikes = rng.integers(-128, 128, (5, 7, 300)).astype(np.int8)  # graded, negative, batched
    w = rng.integers(-255, 256, (300, 40))
    exact = spikes.astype(np.int64) @ w
    got = eq.integer_matmul(spikes, w)
    assert got.dtype == np.int64 and np.array_equal(got, exact)  # the float64 path
    # 2**60-sized terms: the bound rules the float path out, the int64 one is used
    big = np.array([[2 ** 60, 3], [1, 2 ** 60 - 1]], dtype=np.int64)
    ones = np.array([[1, 1], [0, 1]], dtype=np.int64)
    assert np.array_equal(eq.integer_matmul(ones, big), ones @ big)
    assert eq.integer_matmul(ones, big)[0, 1] == 2 ** 60 + 2  # not representable in float64
    # a sum near 2**52, on the float path, is still exact
    edge = np.full((1, 2), 2 ** 26, dtype=np.int64)
    assert eq.integer_matmul(edge, np.full((2, 1), 2 ** 25 - 1)).item() == 2 * 2 ** 26 * (2 ** 25 - 1)
    assert eq.integer_matmul(np.zeros((0, 3), int), np.ones((3, 2), int)).shape == (0, 2)
    with pytest.raises(ValueError, match="integer values"):
        eq.integer_matmul(np.array([[0.5]]), np.array([[1]]))


# --------------------------------------------------------------------------
# (b) bit-exact against Lava's stock bit-accurate LIF and Dense
# --------------------------------------------------------------------------
def _stock_job(spk_e, spk_i, w_e, w_i, exp, lif_kw, report=None):
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF
    from lava.proc.monitor.process import Monitor
    from lava.utils.weightutils import SignMode

    T = spk_e.shape[1]
    src_e, src_i = RingBuffer(data=spk_e), RingBuffer(data=spk_i)
    d_e = Dense(weights=w_e.T, weight_exp=exp, num_weight_bits=8, sign_mode=SignMode.EXCITATORY)
    d_i = Dense(weights=w_i.T, weight_exp=exp, num_weight_bits=8, sign_mode=SignMode.INHIBITORY)
    lif = LIF(shape=(w_e.shape[1],), **lif_kw)
    src_e.s_out.connect(d_e.s_in)
    src_i.s_out.connect(d_i.s_in)
    d_e.a_out.connect(lif.a_in)
    d_i.a_out.connect(lif.a_in)
    mon_u, mon_v = Monitor(), Monitor()
    mon_u.probe(lif.u, T)
    mon_v.probe(lif.v, T)
    try:
        lif.run(condition=RunSteps(num_steps=T), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        u = mon_u.get_data()[lif.name]["u"]
        v = mon_v.get_data()[lif.name]["v"]
    finally:
        lif.stop()
    return np.asarray(u).reshape(T, -1), np.asarray(v).reshape(T, -1)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("exp", [1, -1])
def test_bit_exact_against_stock_lava_lif_and_dense(exp):
    from lava_balanced.runner import run_isolated

    rng = np.random.default_rng(3)
    n_e, n_i, n, T = 8, 4, 5, 40
    spk = (rng.random((n_e + n_i, T)) < 0.5).astype(np.int32)
    w_e = rng.integers(0, 256, (n_e, n))
    w_i = -rng.integers(0, 256, (n_i, n))
    bias_mant = np.array([0, 3, -2, 0, 1])
    lif_kw = dict(du=900, dv=300, vth=200 if exp > 0 else 40, bias_mant=bias_mant, bias_exp=2)
    u_ref, v_ref = run_isolated(_stock_job, spk[:n_e], spk[n_e:], w_e, w_i, exp, lif_kw, timeout=100)

    layer = LoihiLayer(weight=np.vstack([w_e, w_i]), sign_mode=[SIGN_EXCITATORY] * n_e + [SIGN_INHIBITORY] * n_i,
                       weight_exp=exp, du=900, dv=300, vth_mant=lif_kw["vth"], bias_mant=bias_mant, bias_exp=2)
    # stock Dense delivers step t's spikes at step t + 1
    s_in = np.concatenate([np.zeros((1, n_e + n_i), np.int64), spk.T[:-1]])
    u, v = np.zeros((1, n), np.int64), np.zeros((1, n), np.int64)
    us, vs, n_spikes = [], [], 0
    for t in range(T):
        u, v, s = layer.step(u, v, s_in[t:t + 1])
        us.append(u[0])
        vs.append(v[0])
        n_spikes += int(s.sum())
    assert n_spikes > 0 and np.any(np.array(vs) < 0)  # the case exercises spikes and inhibition
    np.testing.assert_array_equal(np.array(us), u_ref)
    np.testing.assert_array_equal(np.array(vs), v_ref)


# --------------------------------------------------------------------------
# (c), (d) quantisation
# --------------------------------------------------------------------------
def _layer(w, **kw):
    p = dict(decay_syn=0.5, decay_mem=0.75, v_th=1.0)
    p.update(kw)
    return DeployLayer(weight=w, **p)


def test_exactly_representable_weights_come_back_exactly():
    rng = np.random.default_rng(0)
    m = rng.integers(0, 256, (20, 6))
    m[0, 0] = 255
    w = m * 2.0 ** -9
    q = quantize(DeployNet([_layer(w)])).layers[0]
    np.testing.assert_array_equal(q.weight * 2 ** q.weight_exp, m * 2 ** q.weight_exp)
    np.testing.assert_array_equal(q.effective_weight(), w)
    # decays: dv = 4096 (1 - 0.75), du = 4096 (1 - 0.5) - 1 (Lava adds ds_offset = 1)
    assert q.dv.tolist() == [1024] * 6 and q.du.tolist() == [2047] * 6


def test_quantisation_error_at_most_half_an_lsb():
    rng = np.random.default_rng(1)
    w = rng.uniform(0, 0.3, (50, 8))
    net = quantize(DeployNet([_layer(w, gain=np.linspace(0.5, 2, 8))]))
    q = net.layers[0]
    wg = w * np.linspace(0.5, 2, 8)
    lsb_float = 2.0 ** (q.weight_exp + 6) / q.scale
    assert np.abs(q.weight).max() == 255  # the full 8 bits are used
    assert np.max(np.abs(q.effective_weight() - wg)) <= 0.5 * lsb_float * (1 + 1e-12)
    # in activation units: |mant * 2**exp - w_scaled * 2**exp| <= 2**exp / 2
    scaled = wg * q.scale / 2.0 ** (q.weight_exp + 6)
    assert np.max(np.abs(q.weight - scaled)) * 2 ** q.weight_exp <= 0.5 * 2 ** q.weight_exp + 1e-9
    assert abs(q.vth_mant[0] * 64 / q.scale - 1.0) < 1e-3
    assert net.metadata["layers"][0]["u_bound"] < 2 ** 23


def test_dale_split_keeps_eight_bits():
    rng = np.random.default_rng(2)
    w = rng.uniform(0, 0.2, (10, 4))
    w[6:] *= -1.0
    w[8, 1] = -0.2  # the largest magnitude is inhibitory
    q = quantize(DeployNet([_layer(w)]), signs=[np.r_[np.ones(6), -np.ones(4)]]).layers[0]
    assert q.sign_mode.tolist() == [SIGN_EXCITATORY] * 6 + [SIGN_INHIBITORY] * 4
    assert q.weight[8, 1] == -255 and q.weight[6:].max() <= 0 and q.weight[:6].min() >= 0
    # odd mantissas survive in both modes (no bit lost)
    assert np.any(q.weight[:6] % 2 == 1) and np.any(q.weight[6:] % 2 == 1)
    # inferred sign modes agree
    assert quantize(DeployNet([_layer(w)])).layers[0].sign_mode.tolist() == q.sign_mode.tolist()


def test_mixed_row_falls_back_to_mixed_mode_with_a_warning():
    w = np.array([[0.1, -0.05], [0.2, 0.03]])
    with pytest.warns(UserWarning, match="MIXED"):
        q = quantize(DeployNet([_layer(w)])).layers[0]
    assert q.sign_mode.tolist() == [SIGN_MIXED, SIGN_EXCITATORY]
    assert np.all(q.weight[0] % 2 == 0)
    with pytest.raises(ValueError, match="both signs"):
        quantize(DeployNet([_layer(w)]), allow_mixed=False)


def test_v_leak_equal_to_reset_is_shifted_exactly():
    w = np.full((3, 2), 0.1)
    a = quantize(DeployNet([_layer(w)])).layers[0]
    b = quantize(DeployNet([_layer(w, v_leak=-0.5, v_reset=-0.5, v_th=0.5)])).layers[0]
    assert a.vth_mant.tolist() == b.vth_mant.tolist() and b.v_leak.tolist() == [-0.5, -0.5]


# --------------------------------------------------------------------------
# (g) clear errors
# --------------------------------------------------------------------------
def test_errors_for_what_loihi_cannot_run():
    w = np.full((3, 2), 0.1)
    bad = _layer(w.copy())
    bad.weight[0, 0] = np.nan  # mutated after validation
    with pytest.raises(ValueError, match="NaN"):
        quantize(DeployNet([bad]))
    with pytest.raises(ValueError, match="v_reset"):
        quantize(DeployNet([_layer(w, v_reset=0.2)]))
    with pytest.raises(ValueError, match="gain"):
        quantize(DeployNet([_layer(w, gain=-1.0)]))
    with pytest.raises(ValueError, match="bias"):
        quantize(DeployNet([_layer(w, bias=0.1)]))  # decay_syn = 0.5: bias into a decaying current
    with pytest.raises(ValueError, match="threshold"):
        quantize(DeployNet([_layer(w, v_th=-1.0)]))
    with pytest.raises(ValueError, match="declared excitatory"):
        quantize(DeployNet([_layer(np.array([[0.1, -0.1], [0.1, 0.1]]))]), signs=[np.array([1, 1])])
    with pytest.raises(ValueError, match="declared inhibitory"):
        quantize(DeployNet([_layer(np.array([[0.1, 0.1], [-0.1, 0.1]]))]), signs=[np.array([1, -1])])
    with pytest.raises(ValueError, match="17 bits|2\\*\\*23"):
        quantize(DeployNet([_layer(np.full((3, 2), 1e-7))]), weight_exp=[7])
    with pytest.raises(ValueError, match="EXCITATORY"):
        LoihiLayer(weight=[[-1]], sign_mode=[SIGN_EXCITATORY], weight_exp=0, du=0, dv=0, vth_mant=1)
    with pytest.raises(ValueError, match="du"):
        LoihiLayer(weight=[[1]], sign_mode=[SIGN_EXCITATORY], weight_exp=0, du=4096, dv=0, vth_mant=1)


def test_bias_maps_where_the_current_does_not_decay():
    w = np.full((3, 2), 0.1)
    q = quantize(DeployNet([_layer(w, decay_syn=0.0, bias=[0.05, -0.02])])).layers[0]
    np.testing.assert_allclose(q.bias / q.scale, [0.05, -0.02], rtol=1e-3)
    assert q.du.tolist() == [4095, 4095]
    with pytest.raises(ValueError, match="bias"):
        quantize(DeployNet([_layer(w, decay_syn=0.0, bias=[1e4, 0])]))


# --------------------------------------------------------------------------
# (e) fixed_pt Lava models == run_reference; (f) netx round trip
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_qnet(bundled):
    from lava_balanced import Config, init_weights
    cfg = Config().override(**{"training.n_hidden": 40})
    w = init_weights(cfg)
    net = from_trained(w, cfg, stp="first")
    # a stronger output layer so the output neurons spike and ties are broken by v
    net.layers[1].weight *= 6.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a Dale net quantises without MIXED rows
        return quantize(net, signs=[None, w.hidden_sign])


@pytest.mark.timeout(180)
def test_fixed_pt_lava_equals_reference(bundled, small_qnet):
    images, labels = bundled.test_images[:200], bundled.test_labels[:200]
    preds, counts, _ = small_qnet.run_reference(images, return_traces=True)
    assert counts.sum() > 0 and small_qnet.layers[1].sign_mode.tolist().count(SIGN_INHIBITORY) > 0
    res = evaluate_deploy(small_qnet, images, labels, backend="lava", tag="fixed_pt", batch_size=50,
                          timeout=150)
    np.testing.assert_array_equal(res.predictions, preds)
    ref = evaluate_deploy(small_qnet, images, labels, backend="reference")
    assert ref.accuracy == res.accuracy


def test_netx_round_trip(tmp_path, small_qnet):
    import h5py

    path = tmp_path / "net.net"
    write_netx(path, small_qnet)
    back = read_netx(path)
    assert isinstance(back, LoihiNet)
    for a, b in zip(small_qnet.layers, back.layers):
        for name in ("weight", "sign_mode", "du", "dv", "vth_mant", "bias_mant", "bias_exp", "v_leak"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert (a.weight_exp, a.scale) == (b.weight_exp, b.scale)
    for name in ("t_steps", "max_rate", "seed", "readout", "dt", "metadata"):
        assert getattr(small_qnet, name) == getattr(back, name)
    with h5py.File(path, "r") as f:  # netx's own keys
        g = f["layer/1"]
        assert g["type"][0] == b"dense" and g["neuron/type"][0] == b"CUBA"
        assert g["weight"].shape == (small_qnet.n_out, small_qnet.layers[1].n_pre)
        assert int(g["neuron/iDecay"][()]) == small_qnet.layers[1].du[0] + 1
        for key in ("vDecay", "vThMant", "refDelay", "gradedSpike"):
            assert key in g["neuron"]
    with h5py.File(tmp_path / "plain.net", "w") as f:
        f.create_group("layer")
    with pytest.raises(ValueError, match="lava-balanced"):
        read_netx(tmp_path / "plain.net")


def test_quantize_declares_the_recorded_dale_types_by_default():
    """A deploy layer's ``pre_sign`` becomes its sign modes: an inhibitory
    neuron whose row is all zero is still quantised INHIBITORY, and a row that
    breaks its recorded type is refused."""
    w = np.array([[0.5, 0.2], [0.0, 0.0], [-0.3, -0.1]])
    net = DeployNet([DeployLayer(weight=w, decay_syn=0.5, decay_mem=0.5, pre_sign=np.array([1.0, -1.0, -1.0]))])
    q = quantize(net)
    assert list(q.layers[0].sign_mode) == [SIGN_EXCITATORY, SIGN_INHIBITORY, SIGN_INHIBITORY]
    net.layers[0].weight[2, 0] = 0.1  # bypasses DeployLayer's own check, as a corrupted net would
    with pytest.raises(ValueError):
        quantize(net)


@pytest.mark.timeout(180)
def test_non_firing_output_gets_a_threshold_it_cannot_reach(bundled):
    """A non-firing output layer (``v_th = inf``) quantises to the largest
    threshold mantissa at an exponent where even every presynaptic neuron
    spiking at every step leaves ``v`` below it; the integer network then
    never fires there, reads out by potential, and the fixed_pt Lava models
    agree with the integer reference."""
    from lava_balanced import Config, init_weights
    from lava_balanced.exporters.loihi import VTH_MAX
    cfg = Config().override(**{"training.n_hidden": 40, "neuron.output_spikes": False,
                               "encoding.readout": "potential", "neuron.inhibition": "current",
                               "synapse.stp": False})
    w = init_weights(cfg)
    net = from_trained(w, cfg)
    assert not net.layers[1].fires
    q = quantize(net)
    out = q.layers[1]
    assert np.all(out.vth_mant == VTH_MAX) and q.metadata["layers"][1]["fires"] is False
    assert q.metadata["layers"][0]["fires"] is True
    # worst case: every hidden neuron spikes at every step, for long enough to settle
    u, v = out.initial_state(1)
    for _ in range(300):
        u, v, s = out.step(u, v, np.ones((1, out.n_pre), np.int8))
        assert not s.any()
    assert np.abs(v).max() < VTH_MAX << eq.LOIHI_VTH_SHIFT
    images, labels = bundled.test_images[:100], bundled.test_labels[:100]
    preds, counts, _ = q.run_reference(images, return_traces=True)
    assert counts.sum() == 0
    res = evaluate_deploy(q, images, labels, backend="lava", tag="fixed_pt", batch_size=50, timeout=150)
    np.testing.assert_array_equal(res.predictions, preds)
