"""The Balanced SNN's equations, once.

Every function here is pure numpy: no state is kept, nothing is imported from
Lava. The Lava ProcessModels (``lava_balanced.processes``), the fast numpy
reference path (:mod:`lava_balanced.reference`) and the exporters call these
functions, so the math lives in one place. Equation numbers refer to Zhang,
Zeng, Zhao and Xu, "Brain-inspired Balanced Tuning for Spiking Neural
Networks", IJCAI-18 (restated in ``docs/model.md``).

Conventions
-----------
* Every state array carries a leading batch axis ``B``.
* Potentials are in the model's own units: the defaults put the leak potential
  at 0 and the threshold at 1, so the potentials that enter the learning rules
  (eq. 3-5, 10-12) are dimensionless.
* Weights have shape ``(n_pre, n_post)``: a synaptic drive is ``s @ w``.
* Time is discretised with step ``dt`` (ms); ODEs are integrated exactly over
  a step with the inputs held (eq. 1) or exactly between spikes (eq. 7-9).
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

__all__ = [
    "bernoulli_spikes",
    "split_ei",
    "synaptic_drive_step",
    "stp_step",
    "stp_steady_state",
    "lif_integrate",
    "inhibitory_current",
    "mp_balance_nudge",
    "supervision_error",
    "supervision_nudge",
    "softmax_error",
    "lif_fire",
    "consolidation_dw",
    "symmetric_consolidation_dw",
    "ei_bounded_update",
    "neuron_sign_mask",
    "dense_drive",
    "cuba_current_step",
    "cuba_membrane_step",
    "fire_above",
]


# --------------------------------------------------------------------------
# Input encoding (section 3.2 / Algorithm 1, step 1)
# --------------------------------------------------------------------------
def bernoulli_spikes(intensity: np.ndarray, max_rate: float, uniform: np.ndarray) -> np.ndarray:
    """Random-sampling encoder (Algorithm 1, step 1).

    A unit of intensity ``p`` in [0, 1] spikes in a time step with probability
    ``p * max_rate``. ``uniform`` holds U(0, 1) draws of the same shape, so the
    caller owns the random stream (and can replay it).
    """
    return uniform < intensity * max_rate


# --------------------------------------------------------------------------
# Synapses (eq. 2, 7-9)
# --------------------------------------------------------------------------
def split_ei(w: np.ndarray, sign: np.ndarray) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Split a weight matrix by the type of its presynaptic neurons (Dale's
    law, eq. 1-2): the rows of excitatory neurons (``sign > 0``) drive the
    current ``I_syn``, the magnitudes of the rows of inhibitory neurons the
    conductance ``g_I``. Returns ``(w_exc, w_inh)``, each ``(n_pre, n_post)``
    with the other type's rows zero; ``w_inh`` is ``None`` when no
    presynaptic neuron is inhibitory."""
    exc = (sign > 0)[:, None]
    w_exc = np.where(exc, w, 0.0)
    if np.all(exc):
        return w_exc, None
    return w_exc, np.where(exc, 0.0, -w)


def synaptic_drive_step(state: np.ndarray, presyn: np.ndarray, w_part: np.ndarray,
                        decay: float, gain: float = 1.0) -> np.ndarray:
    """One step of a synaptic trace, eq. 2 (decay ``f_syn``) and eq. 9.

    ``dI/dt = -I / tau_s + A * sum_j w_ji * r_j * delta(t - t_sp)``, integrated
    exactly: ``I <- I * exp(-dt / tau_s) + A * (r @ w)``. ``presyn`` is the
    presynaptic spike vector (eq. 2) or the STP release ``u * x * s`` (eq. 9);
    ``gain`` is ``A``. With ``decay = 0`` the drive is the instantaneous sum
    of eq. 2.
    """
    return state * decay + gain * (presyn @ w_part)


def stp_step(u: np.ndarray, x: np.ndarray, spikes: np.ndarray, U: float,
             decay_f: float, decay_d: float) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tsodyks-Markram short-term plasticity, eq. 7 and 8, one step.

    Between spikes ``u`` relaxes to 0 with ``tau_f`` and ``x`` to 1 with
    ``tau_d`` (exact exponentials, ``decay_f = exp(-dt/tau_f)``,
    ``decay_d = exp(-dt/tau_d)``). At a presynaptic spike, first
    ``u <- u + U (1 - u)`` (facilitation, eq. 7), then the released fraction
    ``r = u x`` leaves the pool, ``x <- x - u x`` (depression, eq. 8).

    Returns ``(u, x, release)`` with ``release = r`` where a spike arrived and
    0 elsewhere; ``release`` enters eq. 9 through :func:`synaptic_drive_step`.
    """
    s = spikes.astype(bool)
    u = u * decay_f
    x = 1.0 - (1.0 - x) * decay_d
    u = np.where(s, u + U * (1.0 - u), u)
    release = np.where(s, u * x, 0.0)
    x = x - release
    return u, x, release


def stp_steady_state(isi_steps: float, U: float, decay_f: float, decay_d: float) -> Tuple[float, float]:
    """Analytic steady state of :func:`stp_step` for a regular spike train
    with one spike every ``isi_steps`` steps (eq. 7-8).

    Returns ``(u*, x*)``, the values just after the facilitation jump and just
    before the depression jump of a spike (the ``u`` and ``x`` whose product
    is the release). With ``a = decay_f**isi`` and ``b = decay_d**isi``:
    ``u* = U / (1 - (1 - U) a)`` and ``x* = (1 - b) / (1 - (1 - u*) b)``.
    """
    a = decay_f ** isi_steps
    b = decay_d ** isi_steps
    u_star = U / (1.0 - (1.0 - U) * a)
    x_star = (1.0 - b) / (1.0 - (1.0 - u_star) * b)
    return float(u_star), float(x_star)


# --------------------------------------------------------------------------
# Neuron (eq. 1), membrane-potential balance (eq. 3-5), supervision (10-11)
# --------------------------------------------------------------------------
def lif_integrate(v: np.ndarray, i_syn: np.ndarray, g_inh: np.ndarray, *, dt: float,
                  tau_m: float, v_leak: float, v_exc: float, v_inh: float,
                  g_exc: float) -> np.ndarray:
    """Conductance-based LIF membrane update, eq. 1, one step of length dt.

    ``tau_m dV/dt = -(V - V_L) - (g_E/g_L)(V - V_E) - (g_I/g_L)(V - V_I) + I_syn/g_L``

    ``i_syn`` is ``I_syn / g_L`` (the excitatory synaptic drive, eq. 2 or 9),
    ``g_inh`` is ``g_I / g_L`` (the inhibitory synaptic conductance),
    ``g_exc`` is the tonic ``g_E / g_L``.

    With the inputs held over the step, eq. 1 is linear in ``V`` and is
    integrated exactly (exponential Euler): ``V`` relaxes towards
    ``V_inf = (V_L + g_E V_E + g_I V_I + I_syn) / (1 + g_E + g_I)`` with the
    effective time constant ``tau_m / (1 + g_E + g_I)``. Unlike forward Euler
    this stays stable for any conductance (a large inhibitory conductance
    cannot make ``V`` overshoot past ``V_I``).
    """
    g_tot = 1.0 + g_exc + g_inh
    v_inf = (v_leak + g_exc * v_exc + g_inh * v_inh + i_syn) / g_tot
    return v_inf + (v - v_inf) * np.exp(-(dt / tau_m) * g_tot)


def inhibitory_current(i_syn: np.ndarray, g_inh: np.ndarray, v_leak: float, v_inh: float) -> np.ndarray:
    """The inhibitory conductance of eq. 1 as the current it injects at rest,
    ``I_syn + g_I (V_I - V_L)`` (``neuron.inhibition = "current"``): the
    driving force is held at its resting value, so the layer is a
    current-based LIF that NIR and Loihi express exactly."""
    return i_syn + g_inh * (v_inh - v_leak)


def mp_balance_nudge(top_down: np.ndarray, eta_mp: float, v_scale: float) -> np.ndarray:
    """Membrane-potential balance of a hidden neuron, eq. 3-5, as read here.

    Eq. 3 defines ``dE_i`` as the gap between a neuron's potential and the
    potential its inputs predict; eq. 5 moves ``V_i`` down the gradient of the
    network's balance energy ``1/2 sum_i dE_i^2``. The neuron's own term of
    that gradient is its leaky integration (eq. 1, applied by
    :func:`lif_integrate`); the term contributed by the layer above is
    ``sum_o w_io dE_o``, which the outgoing synapse returns as ``top_down``
    (``dE_o`` of an output neuron is its supervision error, eq. 11). The
    returned increment is ``eta_MP * v_scale * top_down`` where ``v_scale`` is
    ``V_th - V_L`` (the unit of the dimensionless errors).
    """
    return eta_mp * v_scale * top_down


def supervision_error(v: np.ndarray, teacher: np.ndarray, *, v_leak: float, v_th: float,
                      one_sided: bool = False) -> np.ndarray:
    """The output layer's error of eq. 10, ``delta(t - t_sp) - V_i``, in
    threshold units: ``teacher - (V - V_L) / (V_th - V_L)``. A teacher spike
    asks for a potential at threshold, its absence for the leak potential.

    ``one_sided`` (``learning.supervision = "one_sided"``) keeps only the part
    of the error that points the way the teacher asks: up where a teacher
    spike arrives (a potential at or above threshold fires, which is what the
    spike asks for) and down where none does (a potential at or below rest is
    silent, as asked): ``max(e, 0)`` with a teacher spike, ``min(e, 0)``
    without. Eq. 10's cost then counts only potentials on the wrong side of
    their target (a squared hinge)."""
    error = teacher - (v - v_leak) / (v_th - v_leak)
    if one_sided:
        error = np.where(teacher > 0, np.maximum(error, 0.0), np.minimum(error, 0.0))
    return error


def softmax_error(free_v: np.ndarray, teacher: np.ndarray, *, v_leak: float, v_th: float,
                  scale: float, cut: float) -> np.ndarray:
    """A cross-entropy form of the output error of eq. 10-11
    (``learning.supervision = "softmax"``, a documented deviation: the
    paper's cost is the squared error of eq. 10).

    The output layer's mean potentials over the free phase, ``free_v``
    (``(B, n)``), in threshold units and multiplied by ``scale``, are
    normalised across the layer into ``p = softmax(scale (V - V_L) / (V_th -
    V_L))`` (a divisive normalisation, as lateral inhibition would make it).
    The cost is ``C = -log p_y`` of the taught neuron ``y`` (the one receiving
    teacher spikes); its error, positive pushing up like
    :func:`supervision_error`, is ``teacher - p`` on every neuron: the taught
    one is pushed up by ``1 - p_y``, each other one down by its ``p_j``.

    Unlike eq. 10's error, this one never reaches zero by itself (``p_y < 1``
    always), so a sample already classified with ``p_y > cut`` gets none: the
    weights stop growing once the answer is confident. No error either on a
    step without a teacher spike. Returns ``(B, n)``.
    """
    z = scale * (free_v - v_leak) / (v_th - v_leak)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    taught = teacher > 0
    p_y = np.where(taught, p, 0.0).sum(axis=1, keepdims=True)
    active = taught.any(axis=1, keepdims=True) & (p_y <= cut)
    return np.where(active, taught - p, 0.0)


def supervision_nudge(error: np.ndarray, eta_c: float, v_scale: float) -> np.ndarray:
    """Weak supervision, eq. 11: ``dV_i^SUP = -eta_c (V_i - delta(t - t_sp))``
    (the gradient step on the cost of eq. 10), i.e.
    ``eta_c * v_scale * error`` with ``error`` from :func:`supervision_error`.
    ``eta_c = 1`` clamps the potential to the target; small ``eta_c`` nudges.
    """
    return eta_c * v_scale * error


def lif_fire(v: np.ndarray, refractory: np.ndarray, *, v_th: float, v_reset: float,
             t_ref: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Threshold, reset and refractoriness (section 3.1).

    A neuron not in its refractory period spikes when ``V >= V_th``; a spiking
    neuron is reset to ``V_reset`` and held there for ``t_ref`` steps.
    Returns ``(spikes, v, refractory)``.
    """
    active = refractory <= 0
    spikes = (v >= v_th) & active
    v = np.where(spikes | ~active, v_reset, v)
    refractory = np.where(spikes, t_ref, np.maximum(refractory - 1, 0))
    return spikes, v, refractory


# --------------------------------------------------------------------------
# Learning: consolidation (eq. 12) and E-I balance (eq. 6)
# --------------------------------------------------------------------------
def consolidation_dw(pre_nudged: np.ndarray, post_nudged: np.ndarray,
                     pre_free: np.ndarray, post_free: np.ndarray, free_pre: bool = False) -> np.ndarray:
    """STDP-like consolidation, eq. 12, without its rate:
    ``dw_ji = V_j^{t+1} V_i^{t+1} - V_j^t V_i^t``, averaged over the batch.

    State ``t`` is the free phase and ``t + 1`` the nudged phase (see
    ``docs/model.md``); the ``V`` are the phase-averaged activities of the
    presynaptic (``(B, n_pre)``) and postsynaptic (``(B, n_post)``) neurons.

    ``free_pre`` (``learning.output_pre = "free"``, a documented deviation)
    holds the presynaptic factor at its free-phase value in both terms:
    ``dw_ji = V_j^t (V_i^{t+1} - V_i^t)``. That is eq. 12 exactly wherever
    the presynaptic activity is the same in both phases (the input layer
    replaying its spikes); at the hidden -> output synapses it drops the term
    ``(V_j^{t+1} - V_j^t) V_i^{t+1}``, through which a strong top-down nudge
    of the hidden layer feeds back into the output weights.
    Returns ``(n_pre, n_post)``.
    """
    b = pre_free.shape[0]
    if free_pre:
        return pre_free.T @ (post_nudged - post_free) / b
    return (pre_nudged.T @ post_nudged - pre_free.T @ post_free) / b


def symmetric_consolidation_dw(pre_plus: np.ndarray, post_plus: np.ndarray, pre_minus: np.ndarray,
                               post_minus: np.ndarray, pre_free: np.ndarray,
                               free_pre: bool = False) -> np.ndarray:
    """Eq. 12 with symmetric nudging (``learning.nudging = "symmetric"``, a
    documented reading of the paper's open "t" and "t+1"): state ``t`` is the
    phase nudged *against* the teacher (output error and top-down term of eq.
    5 negated), ``t + 1`` the phase nudged towards it, and the difference is
    halved so that for small nudges the step equals :func:`consolidation_dw`'s:

    ``dw_ji = (V_j^+ V_i^+ - V_j^- V_i^-) / 2``, averaged over the batch.

    The one-sided difference (nudged minus free) estimates the derivative of
    the activities with respect to the nudge with an error of first order in
    the nudge strength; the central difference's error is of second order
    (as in equilibrium propagation's symmetric estimate, Laborieux et al.
    2021). ``free_pre`` holds the presynaptic factor at the free phase's
    value ``pre_free`` in both terms, as in :func:`consolidation_dw`:
    ``dw_ji = V_j^free (V_i^+ - V_i^-) / 2``. Returns ``(n_pre, n_post)``.
    """
    b = pre_free.shape[0]
    if free_pre:
        return pre_free.T @ (post_plus - post_minus) / (2 * b)
    return (pre_plus.T @ post_plus - pre_minus.T @ post_minus) / (2 * b)


def ei_bounded_update(w: np.ndarray, dw: np.ndarray, sign: np.ndarray, eta0: float,
                      eta1: float) -> np.ndarray:
    """Excitatory-inhibitory balance, eq. 6: apply ``dw`` with a per-synapse
    learning rate that never flips a synapse's sign.

    * ``w * dw >= 0`` (the update keeps or grows the magnitude): rate ``eta0``.
    * ``w * dw < 0`` (the update shrinks the magnitude): the step ``eta0 * dw``
      is scaled down wherever it would take more than the fraction ``eta1`` of
      the weight's magnitude, i.e. the applied step is
      ``-sign(w) * min(eta0 |dw|, eta1 |w|)``. This is the paper's condition
      ``-dw / w <= 1`` with its margin ``eta1`` in (0, 1): ``w`` keeps its sign.
    * A weight at exactly 0 may only move in the direction ``sign`` (+1 for an
      excitatory presynaptic neuron, -1 for an inhibitory one; Dale's law).

    ``sign`` broadcasts against ``w`` (shape ``(n_pre, 1)`` for a per-neuron
    type). Returns the new weights.
    """
    # the dtype numpy gives w + eta0 * dw (float16 only makes integers float)
    step = np.multiply(eta0, dw, dtype=np.result_type(w, dw, np.float16))
    # compare signs, not the product w * dw: the product of two tiny numbers
    # underflows to 0 and would let a shrinking step through unbounded
    shrinking = (w > 0) & (dw < 0)
    shrinking |= (w < 0) & (dw > 0)
    # where shrinking: -sign(w) * min(|step|, eta1 |w|), in place (the input
    # layer's matrix is the largest array of a training cycle)
    limited = np.multiply(eta1, np.abs(w), dtype=step.dtype)
    np.minimum(np.abs(step), limited, out=limited)
    np.copysign(limited, -w, out=limited)
    np.copyto(step, limited, where=shrinking)
    new = w + step
    zero = w == 0
    if np.any(zero):
        new = np.where(zero, np.where(sign > 0, np.maximum(new, 0.0), np.minimum(new, 0.0)), new)
    return new


def neuron_sign_mask(n: int, p_inh: float, rng: np.random.Generator) -> np.ndarray:
    """Neuron types for a layer of ``n`` neurons: +1 excitatory, -1
    inhibitory, with ``round(p_inh * n)`` inhibitory neurons at random
    positions (section 3.2, E-I balance)."""
    n_inh = int(round(p_inh * n))
    sign = np.ones(n)
    sign[rng.permutation(n)[:n_inh]] = -1.0
    return sign


# --------------------------------------------------------------------------
# The deployable (exported) form: current-based LIF, NIR's CubaLIF at dt
# --------------------------------------------------------------------------
def dense_drive(presyn: np.ndarray, w: np.ndarray, bias) -> np.ndarray:
    """What a dense connection delivers in one step: ``presyn @ w + bias``
    (the sum of eq. 2 over the presynaptic spikes, with signed weights, plus
    an optional constant per postsynaptic neuron, NIR's Affine bias)."""
    return presyn @ w + bias


def cuba_current_step(i: np.ndarray, drive: np.ndarray, decay_syn) -> np.ndarray:
    """Synaptic current of a current-based (CUBA) layer, one step:
    ``I <- decay_syn * I + drive`` with ``drive`` from :func:`dense_drive`.

    This is eq. 2 with ``f_syn`` an exponential decay (what
    :func:`synaptic_drive_step` computes) and signed weights: in the
    deployable form an inhibitory presynaptic neuron injects a negative
    current instead of a conductance (``docs/export.md`` says how eq. 1's
    conductance and eq. 7-9's STP are mapped). ``decay_syn`` broadcasts per
    neuron. NIR's CubaLIF, ``tau_syn dI/dt = -I + w_in * (W s + b)`` at step
    ``dt``, is this with ``decay_syn = 1 - dt/tau_syn`` and the weights
    ``(dt/tau_syn) w_in W^T``.
    """
    return i * decay_syn + drive


def cuba_membrane_step(v: np.ndarray, i: np.ndarray, decay_mem, gain, v_leak) -> np.ndarray:
    """Membrane of a CUBA LIF layer, one step:
    ``V <- decay_mem * V + (1 - decay_mem) * V_L + gain * I``.

    Eq. 1 without conductances, ``tau_m dV/dt = -(V - V_L) + I``: the exact
    integration of :func:`lif_integrate` with ``g_E = g_I = 0`` is this with
    ``decay_mem = exp(-dt/tau_m)`` and ``gain = 1 - decay_mem``; NIR's
    ``tau dV/dt = (V_L - V) + r I`` at step ``dt`` (forward Euler) is this with
    ``decay_mem = 1 - dt/tau`` and ``gain = r dt/tau``.
    """
    return v * decay_mem + (1.0 - decay_mem) * v_leak + gain * i


def fire_above(v: np.ndarray, v_th, v_reset) -> Tuple[np.ndarray, np.ndarray]:
    """NIR's and Loihi's threshold: spike where ``V > V_th`` (strictly), then
    ``V <- V_reset``. Returns ``(spikes, v)``. (The trained network's
    :func:`lif_fire` spikes at ``V >= V_th``; the two differ only when a
    potential equals the threshold exactly.)"""
    spikes = v > v_th
    return spikes, np.where(spikes, v_reset, v)


# --------------------------------------------------------------------------
# Loihi's integer CUBA neuron and dense accumulation (fixed point)
# --------------------------------------------------------------------------
# Bit-exact restatements of Lava 0.10's bit-accurate models,
# ``lava.proc.lif.models.AbstractPyLifModelFixed`` / ``PyLifModelBitAcc`` and
# ``lava.proc.dense.models.AbstractPyDenseModelBitAcc``, on int64 arrays (so
# nothing overflows before the explicit 24-bit wrap and clip). They are
# eq. 1-2 (as the deployable CUBA form of :func:`cuba_current_step` and
# :func:`cuba_membrane_step` with ``gain`` folded into the weights and
# ``V_L = 0``) in Loihi's integer arithmetic; the scale between the two is
# chosen by :func:`lava_balanced.exporters.loihi.quantize`.

LOIHI_DECAY_SHIFT = 12
LOIHI_DECAY_UNITY = 1 << LOIHI_DECAY_SHIFT      # 4096: a decay of 1
LOIHI_ACT_SHIFT = 6                             # activation << 6 into u
LOIHI_VTH_SHIFT = 6                             # threshold mantissa << 6
LOIHI_STATE_BITS = 24                           # u, v are 24-bit
LOIHI_STATE_MAX = 1 << (LOIHI_STATE_BITS - 1)   # 2**23
LOIHI_DS_OFFSET = 1                             # added to du (Loihi's ds_offset)
LOIHI_DM_OFFSET = 0                             # added to dv (Loihi's dm_offset)

__all__ += ["loihi_decay", "loihi_shift", "loihi_bias", "loihi_dense_accumulate", "LoihiDense", "integer_matmul", "loihi_current_step",
            "loihi_membrane_step", "loihi_fire"]


def loihi_decay(state: np.ndarray, d) -> np.ndarray:
    """Loihi's integer decay of a state by the 12-bit constant ``d``:
    ``sign(x) * ((|x| * (4096 - d)) >> 12)``, i.e. ``x * (1 - d/4096)``
    rounded toward zero (sign-magnitude shift, so ``-5`` decays like ``5``).

    The product is taken in int64 as in ``AbstractPyLifModelFixed.
    subthr_dynamics``. ``d`` broadcasts (per neuron). ``d = 4096`` decays to
    0, ``d = 0`` keeps the state."""
    prod = np.asarray(state, dtype=np.int64) * (LOIHI_DECAY_UNITY - np.asarray(d, dtype=np.int64))
    return np.sign(prod) * np.right_shift(np.abs(prod), LOIHI_DECAY_SHIFT)


def loihi_shift(x: np.ndarray, exp: int) -> np.ndarray:
    """``x * 2**exp`` as Loihi's dense synapse applies its weight exponent:
    a left shift for ``exp > 0``, an arithmetic right shift (rounding toward
    minus infinity) otherwise (``AbstractPyDenseModelBitAcc.run_spk``)."""
    x = np.asarray(x, dtype=np.int64)
    exp = int(exp)
    return np.left_shift(x, exp) if exp > 0 else np.right_shift(x, -exp)


def loihi_bias(bias_mant, bias_exp) -> np.ndarray:
    """A neuron's effective bias, ``bias_mant << bias_exp`` (13-bit signed
    mantissa, 3-bit unsigned exponent; ``AbstractPyLifModelFixed.
    scale_bias``), added to ``v`` every step."""
    mant = np.asarray(bias_mant, dtype=np.int64)
    exp = np.asarray(bias_exp, dtype=np.int64)
    return np.where(exp >= 0, np.left_shift(mant, np.maximum(exp, 0)), np.right_shift(mant, np.maximum(-exp, 0)))


def loihi_dense_accumulate(spikes: np.ndarray, weight_mant: np.ndarray, weight_exp: int,
                           sign_mode: Optional[np.ndarray] = None) -> np.ndarray:
    """The activation a dense connection delivers in one step (eq. 2's sum
    over presynaptic spikes, in integers): ``(s @ W_mant)`` shifted by the
    shared ``weight_exp`` (:func:`loihi_shift`), as
    ``AbstractPyDenseModelBitAcc.run_spk`` computes it.

    ``weight_mant`` is ``(n_pre, n_post)`` (Lava's Dense stores the
    transpose) and already in its sign mode's range. With ``sign_mode`` (one
    value per presynaptic row) the rows of each sign mode are one Loihi
    connection (Dale's law: an excitatory and an inhibitory Dense into the
    same neurons): each connection's sum is shifted on its own and the
    results add, which differs from shifting the total only for a negative
    ``weight_exp``. Unlike Lava's stock Dense this adds no one-step delay:
    the caller decides when the activation is delivered.

    For the same weights step after step, :class:`LoihiDense` prepares them
    once and computes exactly this."""
    w = _integer_valued("loihi_dense_accumulate: weight_mant", weight_mant)
    return _dense_apply(_dense_blocks(w, sign_mode), _integer_valued("loihi_dense_accumulate: spikes", spikes),
                        int(weight_exp))


class LoihiDense:
    """:func:`loihi_dense_accumulate` with its weights prepared once: each
    sign mode's rows, their float64 copy and their largest magnitude (what
    :func:`integer_matmul` would recompute on every call). Calling it with
    the spikes of one step returns ``loihi_dense_accumulate(spikes,
    weight_mant, weight_exp, sign_mode)``, bit for bit (tests/test_loihi.py).
    The weights are copied: changing the array afterwards does not change
    the connection."""

    def __init__(self, weight_mant: np.ndarray, weight_exp: int, sign_mode: Optional[np.ndarray] = None):
        w = np.array(_integer_valued("LoihiDense: weight_mant", weight_mant), dtype=np.int64)  # a copy
        self.weight_exp = int(weight_exp)
        self._blocks = _dense_blocks(w, sign_mode)

    def __call__(self, spikes: np.ndarray) -> np.ndarray:
        return _dense_apply(self._blocks, _integer_valued("LoihiDense: spikes", spikes), self.weight_exp)


def _dense_blocks(w: np.ndarray, sign_mode):
    """``(rows, _IntegerMatrix)`` per sign mode (``rows`` None: all of them)."""
    modes = np.unique(np.asarray(sign_mode)) if sign_mode is not None else ()
    if len(modes) <= 1:
        return [(None, _IntegerMatrix(w))]
    sign_mode = np.asarray(sign_mode)
    return [(sign_mode == m, _IntegerMatrix(w[sign_mode == m])) for m in modes]


def _dense_apply(blocks, s: np.ndarray, weight_exp: int) -> np.ndarray:
    """Each block's integer sum shifted on its own, added."""
    out = 0
    for rows, block in blocks:
        out = out + loihi_shift(block.left_multiply(s if rows is None else s[..., rows]), weight_exp)
    return out


def integer_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` of two integer-valued arrays, exactly, as ``int64``.

    numpy multiplies integer matrices without BLAS, tens of times slower
    than floats. When no partial sum can reach 2**53 in magnitude
    (``max|a| * n * max|b| < 2**53`` for ``n`` summed terms) every product
    and every partial sum is an integer that float64 represents exactly,
    whatever the order of summation, so the product is computed in float64
    and converted back; otherwise in int64. Either way the result equals
    the int64 product (tests/test_loihi.py)."""
    return _IntegerMatrix(_integer_valued("integer_matmul: b", b)).left_multiply(
        _integer_valued("integer_matmul: a", a))


def _integer_valued(name: str, x) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind not in "biuf" or (x.dtype.kind == "f" and not np.all(np.isfinite(x) & (x == np.rint(x)))):
        raise ValueError(f"{name} must hold integer values, got dtype {x.dtype}")
    return x


class _IntegerMatrix:
    """The right operand of :func:`integer_matmul`, converted once: its
    int64 and float64 copies and its largest magnitude."""

    def __init__(self, b: np.ndarray):
        self.int64 = np.asarray(b, dtype=np.int64)
        self.float64 = self.int64.astype(np.float64)
        self.max_abs = float(np.abs(self.int64).max()) if self.int64.size else 0.0

    def left_multiply(self, a: np.ndarray) -> np.ndarray:
        n = a.shape[-1] if a.ndim else 1
        if a.size and self.int64.size and float(np.abs(a).max()) * self.max_abs * n < 2.0 ** 53:
            return (a.astype(np.float64, copy=False) @ self.float64).astype(np.int64)
        return a.astype(np.int64) @ self.int64


def loihi_current_step(u: np.ndarray, a_in: np.ndarray, du) -> np.ndarray:
    """Loihi's synaptic current, one step (eq. 2 as :func:`cuba_current_step`):
    ``u <- decay(u, du + 1) + (a_in << 6)``, then the 24-bit wrap-around.

    Exactly ``AbstractPyLifModelFixed.subthr_dynamics``: the effective decay
    constant is ``du + ds_offset`` with ``ds_offset = 1`` (so ``du = 4095``
    clears ``u`` every step and ``du = 0`` keeps ``4095/4096`` of it); the
    activation is MSB-aligned by ``<< 6``; a result above ``2**23`` has
    ``2**24`` subtracted, one at or below ``-2**23`` has ``2**24`` added
    (once, as Lava does; note that ``+2**23`` itself is kept)."""
    cur = loihi_decay(u, np.asarray(du, dtype=np.int64) + LOIHI_DS_OFFSET)
    cur = cur + np.left_shift(np.asarray(a_in, dtype=np.int64), LOIHI_ACT_SHIFT)
    span = 2 * LOIHI_STATE_MAX
    wrapped = np.where(cur > LOIHI_STATE_MAX, cur - span, cur)
    return np.where(wrapped <= -LOIHI_STATE_MAX, cur + span, wrapped)


def loihi_membrane_step(v: np.ndarray, u: np.ndarray, dv, bias=0) -> np.ndarray:
    """Loihi's membrane potential, one step (eq. 1 as
    :func:`cuba_membrane_step` with ``V_L = 0`` and the gain folded into
    ``u``): ``v <- decay(v, dv) + u + bias``, clipped to
    ``[-(2**23 - 1), 2**23 - 1]`` (``AbstractPyLifModelFixed.
    subthr_dynamics``, ``dm_offset = 0``). ``bias`` is the effective bias
    ``bias_mant << bias_exp``."""
    out = loihi_decay(v, np.asarray(dv, dtype=np.int64) + LOIHI_DM_OFFSET) + np.asarray(u, dtype=np.int64) \
        + np.asarray(bias, dtype=np.int64)
    return np.clip(out, -LOIHI_STATE_MAX + 1, LOIHI_STATE_MAX - 1)


def loihi_fire(v: np.ndarray, vth_mant) -> Tuple[np.ndarray, np.ndarray]:
    """Loihi's threshold (:func:`fire_above` in integers): spike where
    ``v > vth_mant << 6`` (strictly), then ``v <- 0`` (``PyLifModelBitAcc.
    spiking_activation`` and ``reset_voltage``). Returns ``(spikes, v)``."""
    vth = np.left_shift(np.asarray(vth_mant, dtype=np.int64), LOIHI_VTH_SHIFT)
    v = np.asarray(v, dtype=np.int64)
    spikes = v > vth
    return spikes, np.where(spikes, 0, v)
