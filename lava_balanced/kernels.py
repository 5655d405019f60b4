"""Step kernels: one function per layer type that advances its state by one
time step, built only from :mod:`lava_balanced.equations`.

State goes in and comes out explicitly (nothing is kept here), the way Norse
separates its pure step functions from the modules around them. The Lava
ProcessModels in :mod:`lava_balanced.processes` keep the state in their Vars
and call these kernels; :mod:`lava_balanced.reference` chains the same kernels
without Lava. Both therefore compute the same thing, step for step.

The presentation schedule is shared too (:class:`Schedule`): each batch of
samples is shown for one *cycle* of ``t_free`` steps (free phase: input only)
followed, when learning, by ``t_nudge`` steps (nudged phase: input plus the
teacher, eq. 11, and MP balance, eq. 5). With symmetric nudging
(``learning.nudging = "symmetric"``) a second nudged phase of ``t_nudge``
steps follows, nudged the other way (the output error and with it the
top-down term of eq. 5 negated); eq. 12 then contrasts the two nudged phases.
All dynamic state is reset to rest at the start of each phase; weights change
once per cycle, at its last step (eq. 12 then eq. 6).

The top-down term of MP balance travels from the output layer back to the
hidden layer with a delay of ``feedback_delay`` steps (>= 1): the hidden
layer at step ``k`` of a phase applies the output error of step ``k -
feedback_delay`` of the same phase (zero before the phase began:
:meth:`Schedule.top_down_sent` says which steps' top-down terms reach their own phase). A delay of 2 lets the Lava processes of
the loop hidden -> output -> hidden work on two steps at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from . import equations as eq

__all__ = ["Schedule", "LIFParams", "SynapseParams", "lif_step", "synapse_forward",
           "synapse_learn", "encoder_uniforms", "encode", "teacher_spikes", "cycle_teacher", "readout_predict"]

FREE, NUDGED, NUDGED_NEG = 0, 1, 2  #: the phases of a cycle (NUDGED_NEG with symmetric nudging only)
NUDGINGS = ("positive", "symmetric")  #: ``learning.nudging``
TRACES = ("rate", "potential")  #: the two phase traces a LIF layer reports, in this order


@dataclass(frozen=True)
class Schedule:
    """Which sample is shown at which step.

    ``n_samples`` samples are shown in batches of ``batch_size``. Training
    (``learning=True``) shuffles them anew each epoch from ``seed`` and drops
    the last partial batch; evaluation keeps the order and pads the last batch
    by repeating its final sample (padded rows are masked out of the readout).
    Global batch ``g`` covers epoch ``g // batches_per_epoch``. A network
    built with ``start_batch = g`` begins at global batch ``g`` (resume).

    With ``symmetric`` (training only) the cycle is free phase, positively
    nudged phase, negatively nudged phase (``t_free + 2 t_nudge`` steps).
    """

    n_samples: int
    batch_size: int
    t_free: int
    t_nudge: int
    learning: bool
    seed: int = 0
    start_batch: int = 0
    replay_input: bool = True
    symmetric: bool = False

    @property
    def n_nudged(self) -> int:
        """Nudged phases per cycle: 0 (evaluation), 1, or 2 (symmetric)."""
        return (2 if self.symmetric else 1) if self.learning else 0

    @property
    def cycle(self) -> int:
        return self.t_free + self.n_nudged * self.t_nudge

    @property
    def batches_per_epoch(self) -> int:
        if self.learning:
            return self.n_samples // self.batch_size
        return -(-self.n_samples // self.batch_size)

    def position(self, step: int) -> Tuple[int, int]:
        """``(global_batch, tau)`` of 0-based step ``step`` of this run, with
        ``tau`` the step within the cycle."""
        return self.start_batch + step // self.cycle, step % self.cycle

    def epoch(self, global_batch: int) -> int:
        return global_batch // self.batches_per_epoch

    def phase(self, tau: int) -> int:
        """FREE, NUDGED, or (symmetric) NUDGED_NEG at step ``tau`` of a cycle."""
        if tau < self.t_free:
            return FREE
        return NUDGED if tau < self.t_free + self.t_nudge else NUDGED_NEG

    def step_in_phase(self, tau: int) -> int:
        """Steps since the start of the phase that step ``tau`` belongs to."""
        return tau if tau < self.t_free else (tau - self.t_free) % self.t_nudge

    def phase_start(self, tau: int) -> bool:
        return self.step_in_phase(tau) == 0

    def phase_end(self, tau: int) -> bool:
        return self.step_in_phase(tau) == self.phase_length(tau) - 1

    def phase_length(self, tau: int) -> int:
        return self.t_free if tau < self.t_free else self.t_nudge

    @staticmethod
    def nudge_sign(phase: int) -> float:
        """The sign of the supervision in ``phase``: +1 nudged, -1 nudged the
        other way (NUDGED_NEG); the free phase has none (0)."""
        return {FREE: 0.0, NUDGED: 1.0, NUDGED_NEG: -1.0}[phase]

    @property
    def n_draw(self) -> int:
        """Steps of encoder draws per cycle: the free phase's, replayed in the
        nudged phases (``replay_input``), or the whole cycle's."""
        return self.t_free if self.replay_input else self.cycle

    def input_step(self, tau: int) -> int:
        """Which of the cycle's :attr:`n_draw` encoder draws step ``tau`` uses:
        a nudged phase replays the free phase's from its start."""
        return self.step_in_phase(tau) % self.t_free if self.replay_input else tau

    def top_down_sent(self, tau: int, delay: int) -> bool:
        """Whether the top-down term sent at step ``tau`` (the output error of
        step ``tau - 1``) reaches the hidden layer, ``delay - 1`` steps later,
        within the same phase. Terms that would arrive in the next phase are
        sent as zeros: a phase starts without the previous one's errors."""
        return self.step_in_phase(tau) + delay - 1 < self.phase_length(tau)

    def indices(self, global_batch: int) -> Tuple[np.ndarray, np.ndarray]:
        """Sample indices of a batch and the mask of real (unpadded) rows."""
        epoch, k = divmod(global_batch, self.batches_per_epoch)
        if self.learning:
            order = np.random.default_rng([self.seed, 0x5EED, epoch]).permutation(self.n_samples)
            idx = order[k * self.batch_size:(k + 1) * self.batch_size]
            return idx, np.ones(self.batch_size, dtype=bool)
        idx = np.arange(k * self.batch_size, (k + 1) * self.batch_size)
        valid = idx < self.n_samples
        return np.minimum(idx, self.n_samples - 1), valid


@dataclass(frozen=True)
class LIFParams:
    """What :func:`lif_step` needs; see :class:`lava_balanced.config.NeuronConfig`."""

    dt: float
    tau_m: float
    v_leak: float
    v_th: float
    v_reset: float
    v_exc: float
    v_inh: float
    g_exc: float
    t_ref: int
    eta_mp: float = 0.0     #: > 0: MP balance (eq. 5) in the nudged phase
    eta_c: float = 0.0      #: > 0: supervision (eq. 11) in the nudged phase
    #: the output error: "squared" (eq. 10), "one_sided" (eq. 10 only on the
    #: wrong side of its target) or "softmax" (:func:`equations.softmax_error`)
    supervision: str = "squared"
    softmax_scale: float = 10.0  #: logits per threshold unit of ``supervision = "softmax"``
    softmax_cut: float = 0.8     #: no softmax error once ``p_y`` exceeds this
    fires: bool = True      #: False: integrate without threshold or reset (a leaky integrator)
    inhibition: str = "conductance"  #: or "current": g_I enters as the current g_I (V_I - V_L)

    @property
    def v_scale(self) -> float:
        return self.v_th - self.v_leak


@dataclass(frozen=True)
class SynapseParams:
    """What the synapse kernels need; see :class:`lava_balanced.config.SynapseConfig`."""

    decay_s: float          #: exp(-dt / tau_s), eq. 9
    stp: bool
    U: float
    decay_f: float          #: exp(-dt / tau_f), eq. 7
    decay_d: float          #: exp(-dt / tau_d), eq. 8
    A: float
    eta: float = 0.0        #: eta0 of eq. 6 (times eta_STDP of eq. 12)
    eta1: float = 0.5
    feedback_delay: int = 1  #: steps from a postsynaptic error to the top-down term it causes
    post_trace: int = 0      #: postsynaptic V of eq. 12: 0 phase-mean rate, 1 phase-mean potential
    lr_decay_batches: float = 0.0  #: > 0: the rate at global batch g is eta / (1 + g / lr_decay_batches)
    free_pre: bool = False   #: eq. 12 with the presynaptic factor of the free phase (consolidation_dw)
    lr_total_batches: int = 0  #: > 0: the rate also falls linearly, to zero at this global batch

    def rate_at(self, global_batch: int) -> float:
        """eta0 of eq. 6 at a global batch (the paper leaves the schedule open):
        ``eta / (1 + g / lr_decay_batches)`` (constant if ``lr_decay_batches``
        is 0), times ``max(0, 1 - g / lr_total_batches)`` if that is > 0."""
        rate = self.eta
        if self.lr_decay_batches > 0:
            rate = rate / (1.0 + global_batch / self.lr_decay_batches)
        if self.lr_total_batches > 0:
            rate = rate * max(0.0, 1.0 - global_batch / self.lr_total_batches)
        return rate

    @staticmethod
    def from_config(neuron, synapse, stp: bool, eta: float = 0.0, eta1: float = 0.5,
                    feedback_delay: int = 1, post_trace: str = "rate",
                    lr_decay_batches: float = 0.0, free_pre: bool = False,
                    lr_total_batches: int = 0) -> "SynapseParams":
        return SynapseParams(decay_s=float(np.exp(-neuron.dt / synapse.tau_s)), stp=bool(stp),
                             U=synapse.U, decay_f=float(np.exp(-neuron.dt / synapse.tau_f)),
                             decay_d=float(np.exp(-neuron.dt / synapse.tau_d)), A=synapse.A,
                             eta=eta, eta1=eta1, feedback_delay=int(feedback_delay),
                             post_trace=TRACES.index(post_trace),
                             lr_decay_batches=float(lr_decay_batches), free_pre=bool(free_pre),
                             lr_total_batches=int(lr_total_batches))


# ---------------------------------------------------------------------------
def encoder_uniforms(seed: int, epoch: int, indices: np.ndarray, steps: int, n: int) -> np.ndarray:
    """The U(0, 1) draws of the encoder for one cycle, ``(steps, batch, n)``.

    Each sample has its own counter-based stream keyed by ``(seed, epoch,
    sample index)``: a sample draws the same spikes whatever batch it is in
    or batch size it runs with, and a resumed run draws what an uninterrupted
    one would."""
    out = np.empty((steps, len(indices), n), dtype=np.float32)
    for b, i in enumerate(indices):
        out[:, b] = np.random.default_rng([seed, 0xE7C, epoch, int(i)]).random((steps, n), dtype=np.float32)
    return out


def encode(uniform_t: np.ndarray, x: np.ndarray, max_rate: float) -> np.ndarray:
    """Input spikes of one step (int8 0/1), the random sampling of
    Algorithm 1 step 1 (:func:`lava_balanced.equations.bernoulli_spikes`)."""
    return eq.bernoulli_spikes(x, max_rate, uniform_t).view(np.int8)


def teacher_spikes(seed: int, epoch: int, indices: np.ndarray, labels: np.ndarray, steps: int,
                   n_out: int, rate: float) -> np.ndarray:
    """Teacher spike trains for one cycle, ``(steps, batch, n_out)``: Bernoulli
    spikes at probability ``rate`` per step on each sample's true class
    (section 4.4), nothing elsewhere; per-sample streams as in
    :func:`encoder_uniforms`."""
    out = np.zeros((steps, len(indices), n_out))
    for b, (i, y) in enumerate(zip(indices, labels)):
        out[:, b, y] = np.random.default_rng([seed, 0x7EA, epoch, int(i)]).random(steps) < rate
    return out


def cycle_teacher(sched: Schedule, global_batch: int, indices: np.ndarray, labels: np.ndarray,
                  n_out: int, rate: float) -> np.ndarray:
    """The teacher spikes of one cycle of ``sched``, ``(cycle, batch, n_out)``
    (:func:`teacher_spikes`); a negatively nudged phase (symmetric nudging)
    replays the positively nudged phase's spikes."""
    steps = sched.t_free + (sched.t_nudge if sched.learning else 0)
    out = teacher_spikes(sched.seed, sched.epoch(global_batch), indices, labels, steps, n_out, rate)
    if sched.symmetric and sched.learning:
        out = np.concatenate((out, out[sched.t_free:]))
    return out


def lif_step(v: np.ndarray, ref: np.ndarray, i_syn: np.ndarray, g_inh: np.ndarray,
             top_down: Optional[np.ndarray], teacher: Optional[np.ndarray], nudged: bool,
             p: LIFParams, free_v: Optional[np.ndarray] = None, nudge_sign: float = 1.0):
    """One step of a balanced LIF layer.

    1. eq. 1: leaky conductance integration of the synaptic drive;
    2. nudged phase only: MP balance (eq. 5) from ``top_down`` when
       ``p.eta_mp > 0``, and supervision (eq. 10-11) towards ``teacher`` when
       ``p.eta_c > 0`` (with ``p.supervision = "softmax"`` the error is
       :func:`equations.softmax_error` of ``free_v``, the layer's mean
       potentials over the free phase); ``nudge_sign = -1`` (the second
       nudged phase of symmetric nudging) negates the error, so the potential
       is nudged away from the target and the returned error (the top-down
       term's source) is negated with it;
    3. threshold, reset, refractoriness (not when ``p.fires`` is False: the
       layer is then a leaky integrator and never spikes).

    Returns ``(v, ref, spikes, error)``; ``error`` is the supervision error of
    eq. 10 (zero outside the nudged phase or without a teacher): the output
    layer's ``dE`` that MP balance propagates to the layer below.
    """
    if p.inhibition == "current":
        i_syn, g_inh = eq.inhibitory_current(i_syn, g_inh, p.v_leak, p.v_inh), np.zeros_like(g_inh)
    v = eq.lif_integrate(v, i_syn, g_inh, dt=p.dt, tau_m=p.tau_m, v_leak=p.v_leak,
                         v_exc=p.v_exc, v_inh=p.v_inh, g_exc=p.g_exc)
    error = np.zeros_like(v)
    if nudged:
        if p.eta_mp > 0 and top_down is not None:
            v = v + eq.mp_balance_nudge(top_down, p.eta_mp, p.v_scale)
        if p.eta_c > 0 and teacher is not None:
            if p.supervision == "softmax":
                error = eq.softmax_error(free_v, teacher, v_leak=p.v_leak, v_th=p.v_th,
                                         scale=p.softmax_scale, cut=p.softmax_cut)
            else:
                error = eq.supervision_error(v, teacher, v_leak=p.v_leak, v_th=p.v_th,
                                             one_sided=p.supervision == "one_sided")
            if nudge_sign != 1.0:
                error = nudge_sign * error
            v = v + eq.supervision_nudge(error, p.eta_c, p.v_scale)
    if not p.fires:
        return v, ref, np.zeros(v.shape, dtype=np.int8), error
    spikes, v, ref = eq.lif_fire(v, ref, v_th=p.v_th, v_reset=p.v_reset, t_ref=p.t_ref)
    return v, ref, spikes.view(np.int8), error


def synapse_forward(w_split, drive_e: np.ndarray, drive_i: np.ndarray, u: np.ndarray,
                    x: np.ndarray, spikes: np.ndarray, p: SynapseParams):
    """One step of an E-I synapse population (eq. 2, or eq. 7-9 with STP).

    ``w_split`` is ``equations.split_ei(w, sign)``, computed once per cycle
    (the weights change only at a cycle's end): the excitatory rows drive the
    current ``I_syn``, the inhibitory ones the conductance ``g_I`` of eq. 1.
    Returns ``(drive_e, drive_i, u, x)``.
    """
    w_e, w_i = w_split
    if p.stp:
        u, x, release = eq.stp_step(u, x, spikes, p.U, p.decay_f, p.decay_d)
        presyn, gain = release, p.A
    else:
        presyn, gain = spikes, 1.0
    drive_e = eq.synaptic_drive_step(drive_e, presyn, w_e, p.decay_s, gain)
    if w_i is not None:
        drive_i = eq.synaptic_drive_step(drive_i, presyn, w_i, p.decay_s, gain)
    return drive_e, drive_i, u, x


def synapse_learn(w: np.ndarray, sign: np.ndarray, pre_free: np.ndarray, post_free: np.ndarray,
                  pre_nudged: np.ndarray, post_nudged: np.ndarray, p: SynapseParams,
                  global_batch: int = 0) -> np.ndarray:
    """End of a training cycle: consolidation (eq. 12) of the phase-averaged
    activities into the weights, bounded by the E-I rule (eq. 6)."""
    dw = eq.consolidation_dw(pre_nudged, post_nudged, pre_free, post_free, p.free_pre)
    return eq.ei_bounded_update(w, dw, sign[:, None], p.rate_at(global_batch), p.eta1)


def synapse_learn_symmetric(w: np.ndarray, sign: np.ndarray, pre_free: np.ndarray,
                            pre_plus: np.ndarray, post_plus: np.ndarray, pre_minus: np.ndarray,
                            post_minus: np.ndarray, p: SynapseParams, global_batch: int = 0) -> np.ndarray:
    """End of a symmetrically nudged cycle: eq. 12 with t and t+1 the
    negatively and positively nudged phases
    (:func:`equations.symmetric_consolidation_dw`), bounded by eq. 6."""
    dw = eq.symmetric_consolidation_dw(pre_plus, post_plus, pre_minus, post_minus, pre_free, p.free_pre)
    return eq.ei_bounded_update(w, dw, sign[:, None], p.rate_at(global_batch), p.eta1)


def readout_predict(counts: np.ndarray, v_mean: np.ndarray, mode: str) -> np.ndarray:
    """Class of each sample: most output spikes in the free phase, ties broken
    by the higher mean potential (``mode="spikes"``), or the highest mean
    potential alone (``mode="potential"``)."""
    if mode == "potential":
        return np.argmax(v_mean, axis=1)
    # spikes dominate; the mean potential (bounded by the threshold range)
    # only breaks ties between equal counts
    span = np.abs(v_mean).max() + 1.0
    return np.argmax(counts + v_mean / (2.0 * span), axis=1)
