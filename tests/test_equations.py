"""The equations against hand-computed values (docs/model.md numbers them)."""

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lava_balanced import equations as eq
from lava_balanced import kernels as K

NEURON = dict(dt=1.0, tau_m=2.0, v_leak=0.0, v_exc=4.0, v_inh=-1.0, g_exc=0.0)


def test_lif_constant_subthreshold_input_follows_the_exponential():
    # eq. 1 with I_syn/g_L = 0.8, no conductances: V_k = 0.8 (1 - e^{-k dt/tau})
    v = np.zeros((1, 1))
    for k in range(1, 8):
        v = eq.lif_integrate(v, np.full((1, 1), 0.8), np.zeros((1, 1)), **NEURON)
        assert v[0, 0] == pytest.approx(0.8 * (1 - math.exp(-k / 2.0)), rel=1e-12)


def test_lif_trajectory_with_threshold_and_reset():
    # I = 1.5, tau = 2, dt = 1, V_th = 1, reset 0: V_1 = 1.5 (1 - e^-0.5) = 0.5902,
    # V_2 = 1.5 (1 - e^-1) = 0.9482, V_3 = 1.5 (1 - e^-1.5) = 1.1653 -> spike, reset.
    # The trajectory then repeats with period 3.
    p = K.LIFParams(**NEURON, v_th=1.0, v_reset=0.0, t_ref=0)
    v, ref = np.zeros((1, 1)), np.zeros((1, 1))
    vs, spikes = [], []
    for _ in range(9):
        v, ref, s, _ = K.lif_step(v, ref, np.full((1, 1), 1.5), np.zeros((1, 1)), None, None, False, p)
        vs.append(v[0, 0])
        spikes.append(int(s[0, 0]))
    assert spikes == [0, 0, 1] * 3
    expected = [1.5 * (1 - math.exp(-0.5)), 1.5 * (1 - math.exp(-1.0)), 0.0] * 3
    assert vs == pytest.approx(expected, rel=1e-12)


def test_non_firing_layer_integrates_without_reset():
    """``fires=False`` (``neuron.output_spikes = false``): the same trajectory
    as above, but V passes the threshold and keeps rising towards I = 1.5."""
    p = K.LIFParams(**NEURON, v_th=1.0, v_reset=0.0, t_ref=0, fires=False)
    v, ref = np.zeros((1, 1)), np.zeros((1, 1))
    for k in range(1, 5):
        v, ref, s, _ = K.lif_step(v, ref, np.full((1, 1), 1.5), np.zeros((1, 1)), None, None, False, p)
        assert s[0, 0] == 0 and s.dtype == np.int8
        assert v[0, 0] == pytest.approx(1.5 * (1 - math.exp(-k / 2.0)), rel=1e-12)


def test_lif_refractory_period_holds_the_reset():
    p = K.LIFParams(**NEURON, v_th=1.0, v_reset=0.0, t_ref=2)
    v, ref = np.full((1, 1), 0.99), np.zeros((1, 1))
    out = []
    for _ in range(4):
        v, ref, s, _ = K.lif_step(v, ref, np.full((1, 1), 5.0), np.zeros((1, 1)), None, None, False, p)
        out.append((int(s[0, 0]), v[0, 0]))
    assert [o[0] for o in out] == [1, 0, 0, 1]
    assert out[1][1] == 0.0 and out[2][1] == 0.0


def test_inhibitory_conductance_pulls_towards_reversal_without_overshoot():
    # a huge g_I: V relaxes to V_inf = g_I V_I / (1 + g_I), never below V_I
    v = np.full((1, 1), 0.5)
    for _ in range(5):
        v = eq.lif_integrate(v, np.zeros((1, 1)), np.full((1, 1), 1e3), **NEURON)
        assert v[0, 0] >= -1.0
    assert v[0, 0] == pytest.approx(1e3 * -1.0 / (1 + 1e3), rel=1e-9)


def test_stp_converges_to_the_analytic_steady_state():
    U, tau_f, tau_d, isi = 0.2, 20.0, 5.0, 4
    df, dd = math.exp(-1 / tau_f), math.exp(-1 / tau_d)
    u, x = np.zeros((1, 1)), np.ones((1, 1))
    releases = []
    for t in range(2000):
        s = np.array([[t % isi == 0]])
        u, x, r = eq.stp_step(u, x, s, U, df, dd)
        if s[0, 0]:
            releases.append(r[0, 0])
    u_star, x_star = eq.stp_steady_state(isi, U, df, dd)
    assert releases[-1] == pytest.approx(u_star * x_star, rel=1e-9)
    # and by hand: u* = U / (1 - (1-U) e^{-isi/tau_f})
    assert u_star == pytest.approx(U / (1 - (1 - U) * math.exp(-isi / tau_f)), rel=1e-12)


def test_stp_low_rate_facilitates_high_rate_depresses():
    U, df, dd = 0.2, math.exp(-1 / 50.0), math.exp(-1 / 20.0)
    low = np.prod(eq.stp_steady_state(40, U, df, dd))
    high = np.prod(eq.stp_steady_state(2, U, df, dd))
    first = U * 1.0  # release of an isolated spike
    assert high < first  # depression dominates at high rates
    assert low > first  # facilitation dominates at low rates
    assert eq.stp_steady_state(40, U, df, dd)[0] > U  # u facilitated above U


def test_consolidation_tiny_case_by_hand():
    # eq. 12 with one sample: dw = Vj' Vi' - Vj Vi
    pre_f, post_f = np.array([[1.0, 0.5]]), np.array([[0.2]])
    pre_n, post_n = np.array([[1.0, 0.5]]), np.array([[0.6]])
    dw = eq.consolidation_dw(pre_n, post_n, pre_f, post_f)
    np.testing.assert_allclose(dw, [[0.4], [0.2]])


def test_consolidation_averages_over_the_batch():
    pre = np.array([[1.0], [0.0]])
    dw = eq.consolidation_dw(pre, np.array([[1.0], [1.0]]), pre, np.zeros((2, 1)))
    np.testing.assert_allclose(dw, [[0.5]])


def test_ei_update_cases_by_hand():
    w = np.array([[0.4, 0.4, -0.4, 0.0, 0.0]])
    dw = np.array([[1.0, -10.0, 10.0, -1.0, 1.0]])
    sign = np.array([[1.0, 1.0, -1.0, 1.0, 1.0]])
    new = eq.ei_bounded_update(w, dw, sign, eta0=0.1, eta1=0.5)
    # grow freely: 0.4 + 0.1; shrink limited to eta1 |w| = 0.2 on both signs;
    # a zero excitatory weight cannot go negative but may grow
    np.testing.assert_allclose(new, [[0.5, 0.2, -0.2, 0.0, 0.1]])


@settings(max_examples=150, deadline=None)
@given(arrays(np.float64, (6, 4), elements=st.floats(-5, 5)),
       arrays(np.float64, (6, 4), elements=st.floats(-1e3, 1e3)),
       arrays(np.int8, (6,), elements=st.sampled_from([-1, 1])),
       st.floats(1e-4, 10.0), st.floats(0.01, 0.99))
def test_ei_update_never_flips_a_sign(magnitude, dw, types, eta0, eta1):
    sign = types.astype(float)[:, None]
    w = np.abs(magnitude) * sign  # Dale's law: row signs by presynaptic type
    new = eq.ei_bounded_update(w, dw, sign, eta0, eta1)
    assert np.all(new * sign >= 0)
    # away from the subnormal range a shrinking step keeps (1 - eta1) of |w|
    normal = np.abs(w) > 1e-300
    assert np.all(np.abs(new[normal]) >= (1 - eta1) * np.abs(w[normal]) * (1 - 1e-12))


def test_split_ei_by_presynaptic_type():
    w = np.array([[0.5, 0.0], [-0.25, -1.0]])
    w_e, w_i = eq.split_ei(w, np.array([1.0, -1.0]))
    np.testing.assert_array_equal(w_e, [[0.5, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(w_i, [[0.0, 0.0], [0.25, 1.0]])
    assert eq.split_ei(np.ones((2, 2)), np.ones(2))[1] is None


def test_supervision_full_rate_clamps_to_the_target():
    v = np.array([[0.3, 0.7]])
    err = eq.supervision_error(v, np.array([[1.0, 0.0]]), v_leak=0.0, v_th=1.0)
    np.testing.assert_allclose(err, [[0.7, -0.7]])
    np.testing.assert_allclose(v + eq.supervision_nudge(err, 1.0, 1.0), [[1.0, 0.0]])


def test_one_sided_supervision_keeps_only_the_wrong_side():
    """Teacher spike on neuron 0 and 1 (targets: threshold), none on 2 and 3
    (targets: rest). Neuron 0 is below threshold (pushed up, 0.7), neuron 1
    above it (left alone), neuron 2 above rest (pushed down, -0.4), neuron 3
    below rest (left alone); the squared error pushes all four."""
    v = np.array([[0.3, 1.2, 0.4, -0.5]])
    teacher = np.array([[1.0, 1.0, 0.0, 0.0]])
    squared = eq.supervision_error(v, teacher, v_leak=0.0, v_th=1.0)
    np.testing.assert_allclose(squared, [[0.7, -0.2, -0.4, 0.5]])
    one_sided = eq.supervision_error(v, teacher, v_leak=0.0, v_th=1.0, one_sided=True)
    np.testing.assert_allclose(one_sided, [[0.7, 0.0, -0.4, 0.0]])
    # in physical units (leak -65, threshold -50): the same errors
    phys = eq.supervision_error(-65.0 + 15.0 * v, teacher, v_leak=-65.0, v_th=-50.0, one_sided=True)
    np.testing.assert_allclose(phys, one_sided)


def test_softmax_error_by_hand():
    """Mean free potentials 1 and 0 (threshold units) at scale ln 3 give the
    logits ln 3 and 0, so p = (3/4, 1/4). Taught neuron 0: error 1 - 3/4 up,
    1/4 down. A cut below p_y = 0.75, or a step without a teacher spike,
    leaves no error; physical units (leak -65, threshold -50) give the same."""
    free_v, teacher = np.array([[1.0, 0.0]]), np.array([[1.0, 0.0]])
    kw = dict(v_leak=0.0, v_th=1.0, scale=math.log(3.0))
    np.testing.assert_allclose(eq.softmax_error(free_v, teacher, cut=0.8, **kw), [[0.25, -0.25]])
    np.testing.assert_allclose(eq.softmax_error(free_v, teacher, cut=0.7, **kw), [[0.0, 0.0]])
    np.testing.assert_allclose(eq.softmax_error(free_v, np.zeros((1, 2)), cut=0.8, **kw), [[0.0, 0.0]])
    # taught neuron 1 (p = 1/4): pushed up by 3/4, neuron 0 down by 3/4
    np.testing.assert_allclose(eq.softmax_error(free_v, teacher[:, ::-1], cut=0.8, **kw), [[-0.75, 0.75]])
    phys = eq.softmax_error(-65.0 + 15.0 * free_v, teacher, v_leak=-65.0, v_th=-50.0, scale=math.log(3.0),
                            cut=0.8)
    np.testing.assert_allclose(phys, [[0.25, -0.25]])


def test_consolidation_with_the_free_presynaptic_factor():
    """Pre (1, 0) free and (0, 1) nudged, post 0.5 free and 1 nudged:
    eq. 12 gives (0 * 1 - 1 * 0.5, 1 * 1 - 0 * 0.5) = (-0.5, 1); with the
    free phase's presynaptic factor, (1, 0) * (1 - 0.5) = (0.5, 0)."""
    pre_f, pre_n = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    post_f, post_n = np.array([[0.5]]), np.array([[1.0]])
    np.testing.assert_allclose(eq.consolidation_dw(pre_n, post_n, pre_f, post_f), [[-0.5], [1.0]])
    np.testing.assert_allclose(eq.consolidation_dw(pre_n, post_n, pre_f, post_f, free_pre=True), [[0.5], [0.0]])
    # with the same presynaptic activity in both phases the two forms agree (the replayed input layer)
    np.testing.assert_allclose(eq.consolidation_dw(pre_f, post_n, pre_f, post_f, free_pre=True),
                               eq.consolidation_dw(pre_f, post_n, pre_f, post_f))


def test_symmetric_consolidation_by_hand():
    """Two samples; pre (1, 0) and (1, 1) in the plus phase, (1, 0) and (0, 1)
    in the minus phase, free (1, 1) and (0, 0); post 1 and 0.5 (plus), 0.5 and
    0 (minus). Eq. 12 between the two nudged phases, halved, batch mean:
    pre_plus^T post_plus = (1 * 1 + 1 * 0.5, 0 * 1 + 1 * 0.5) = (1.5, 0.5),
    pre_minus^T post_minus = (1 * 0.5 + 0 * 0, 0 * 0.5 + 1 * 0) = (0.5, 0),
    dw = ((1.5, 0.5) - (0.5, 0)) / (2 * 2) = (0.25, 0.125). With the free
    presynaptic factor: (1, 1)^T (0.5) + (0, 0)^T (0.5) = (0.5, 0.5), / 4."""
    pre_p, pre_m, pre_f = np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[1.0, 0.0], [0.0, 1.0]]), \
        np.array([[1.0, 1.0], [0.0, 0.0]])
    post_p, post_m = np.array([[1.0], [0.5]]), np.array([[0.5], [0.0]])
    np.testing.assert_allclose(eq.symmetric_consolidation_dw(pre_p, post_p, pre_m, post_m, pre_f),
                               [[0.25], [0.125]])
    np.testing.assert_allclose(eq.symmetric_consolidation_dw(pre_p, post_p, pre_m, post_m, pre_f, free_pre=True),
                               [[0.125], [0.125]])
    # a nudge that moves the activities by +d and -d gives the step that
    # moving them by +d against the free phase gives
    pre, post0, d = np.array([[0.3, 0.7]]), np.array([[0.4]]), np.array([[0.05]])
    np.testing.assert_allclose(eq.symmetric_consolidation_dw(pre, post0 + d, pre, post0 - d, pre),
                               eq.consolidation_dw(pre, post0 + d, pre, post0), rtol=1e-12)


def test_negative_nudge_negates_the_error_and_its_step():
    """The second nudged phase of symmetric nudging: the same supervision
    (eq. 11) with the error's sign flipped. A non-firing output at rest
    (-65 mV, threshold -50 mV) under a teacher spike has the squared error
    1 - 0 = 1; eta_c 0.1 moves it by +-0.1 * 15 mV = +-1.5 mV."""
    p = K.LIFParams(dt=1.0, tau_m=1e9, v_leak=-65.0, v_th=-50.0, v_reset=-65.0, v_exc=0.0, v_inh=-80.0,
                    g_exc=1.0, t_ref=0, eta_c=0.1, fires=False)
    zero = np.zeros((1, 1))
    v0 = np.full((1, 1), -65.0)
    up = K.lif_step(v0, zero, zero, zero, None, np.ones((1, 1)), True, p)
    down = K.lif_step(v0, zero, zero, zero, None, np.ones((1, 1)), True, p, nudge_sign=-1.0)
    np.testing.assert_allclose(up[0], [[-63.5]])
    np.testing.assert_allclose(down[0], [[-66.5]])
    np.testing.assert_allclose(up[3], [[1.0]])
    np.testing.assert_allclose(down[3], [[-1.0]])


def test_symmetric_schedule_phases():
    """t_free 3, t_nudge 2: free 0-2, nudged 3-4, nudged the other way 5-6."""
    s = K.Schedule(n_samples=8, batch_size=4, t_free=3, t_nudge=2, learning=True, symmetric=True)
    assert s.cycle == 7 and s.n_nudged == 2
    assert [s.phase(t) for t in range(7)] == [K.FREE] * 3 + [K.NUDGED] * 2 + [K.NUDGED_NEG] * 2
    assert [s.step_in_phase(t) for t in range(7)] == [0, 1, 2, 0, 1, 0, 1]
    assert [t for t in range(7) if s.phase_start(t)] == [0, 3, 5]
    assert [t for t in range(7) if s.phase_end(t)] == [2, 4, 6]
    assert [s.nudge_sign(s.phase(t)) for t in range(7)] == [0.0] * 3 + [1.0] * 2 + [-1.0] * 2
    assert s.n_draw == 3 and [s.input_step(t) for t in range(7)] == [0, 1, 2, 0, 1, 0, 1]
    # a feedback delay of 2: the term sent at a phase's last step would land in the next phase
    assert [t for t in range(7) if not s.top_down_sent(t, 2)] == [2, 4, 6]
    assert all(s.top_down_sent(t, 1) for t in range(7))
    # evaluation has no nudged phase, positive nudging one
    assert K.Schedule(8, 4, 3, 2, False, symmetric=True).cycle == 3
    assert K.Schedule(8, 4, 3, 2, True).cycle == 5
    assert K.Schedule(8, 4, 3, 5, True, symmetric=True).input_step(3 + 5 + 4) == 1  # replay wraps (4 % 3)


def test_symmetric_teacher_replays_the_nudged_phase():
    s = K.Schedule(n_samples=4, batch_size=4, t_free=3, t_nudge=4, learning=True, seed=5, symmetric=True)
    idx, y = np.arange(4), np.array([1, 0, 2, 1])
    t = K.cycle_teacher(s, 0, idx, y, 3, 0.5)
    assert t.shape == (3 + 2 * 4, 4, 3)
    np.testing.assert_array_equal(t[7:], t[3:7])
    np.testing.assert_array_equal(t[:7], K.cycle_teacher(replace(s, symmetric=False), 0, idx, y, 3, 0.5))
    assert t[3:].sum() > 0 and np.all(t[:, np.arange(4), y].sum(axis=0) == t.sum(axis=(0, 2)))


def test_encoder_rate_matches_intensity():
    rng = np.random.default_rng(1)
    x = np.array([[0.0, 0.25, 0.5, 1.0]])
    n = 20000
    spikes = np.stack([eq.bernoulli_spikes(x, 0.8, rng.random(x.shape)) for _ in range(n)]).mean(0)
    np.testing.assert_allclose(spikes, 0.8 * x, atol=4 * math.sqrt(0.25 / n))
    assert spikes[0, 0] == 0.0


def test_neuron_sign_mask_proportion():
    sign = eq.neuron_sign_mask(100, 0.3, np.random.default_rng(0))
    assert (sign < 0).sum() == 30 and (sign > 0).sum() == 70
    assert (eq.neuron_sign_mask(10, 1.0, np.random.default_rng(0)) < 0).all()


def test_learning_rate_schedule_by_hand():
    # eta0 of eq. 6 at global batch g: eta / (1 + g / D), times 1 - g / G with lr_anneal
    base = dict(decay_s=0.0, stp=False, U=0.5, decay_f=0.5, decay_d=0.5, A=1.0, eta=0.2)
    assert K.SynapseParams(**base).rate_at(500) == 0.2
    p = K.SynapseParams(**base, lr_decay_batches=300.0)
    assert p.rate_at(0) == 0.2 and p.rate_at(150) == pytest.approx(0.2 / 1.5, rel=1e-15)
    p = K.SynapseParams(**base, lr_total_batches=10)
    assert [round(p.rate_at(g), 12) for g in (0, 5, 9, 10, 12)] == [0.2, 0.1, 0.02, 0.0, 0.0]
    p = K.SynapseParams(**base, lr_decay_batches=300.0, lr_total_batches=600)
    assert p.rate_at(150) == pytest.approx(0.2 / 1.5 * 0.75, rel=1e-15)


def test_annealing_ends_with_the_configured_epochs():
    from lava_balanced.config import Config
    from lava_balanced.reference import layer_params

    cfg = Config().override(**{"learning.lr_anneal": True, "training.epochs": 3})
    train = K.Schedule(n_samples=100, batch_size=16, t_free=4, t_nudge=4, learning=True)
    _, _, syn_in, syn_out = layer_params(cfg, train)
    assert syn_in.lr_total_batches == syn_out.lr_total_batches == 3 * 6  # 6 full batches per epoch
    test = K.Schedule(n_samples=100, batch_size=16, t_free=4, t_nudge=4, learning=False)
    assert layer_params(cfg, test)[2].lr_total_batches == 0
    assert layer_params(Config(), train)[2].lr_total_batches == 0
    with pytest.raises(ValueError, match="lr_anneal needs the training schedule"):
        layer_params(cfg)
    with pytest.raises(Exception, match="lr_anneal must be true or false"):
        Config().override(**{"learning.lr_anneal": 1})
