"""The fast reference path: the whole Balanced SNN stepped in plain numpy with
the same kernels and schedule as the Lava processes.

It exists to check the Lava network (tests compare both step for step), to be
the baseline of the benchmark, and for quick experiments. Each step runs the
layers in the order the Lava network's channels impose:

encoder -> input synapses -> hidden LIF -> hidden synapses -> output LIF
-> readout, with the output's supervision error returned through the hidden
synapses to the hidden layer one step later (eq. 5's top-down term).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from . import equations as eq
from . import kernels as K
from .config import Config
from .model import Weights

__all__ = ["ReadoutStats", "layer_params", "run_reference", "intensities", "record"]


def intensities(images: np.ndarray) -> np.ndarray:
    """uint8 pixels -> intensities in [0, 1] (float32)."""
    return np.asarray(images, dtype=np.float32) / np.float32(255.0)


@dataclass
class ReadoutStats:
    """Accumulated classification results of a run."""

    n_classes: int = 10
    confusion: Optional[np.ndarray] = None  # (true, predicted)

    def __post_init__(self):
        if self.confusion is None:
            self.confusion = np.zeros((self.n_classes, self.n_classes), dtype=np.int64)

    @property
    def n_seen(self) -> int:
        return int(self.confusion.sum())

    @property
    def n_correct(self) -> int:
        return int(np.trace(self.confusion))

    @property
    def accuracy(self) -> float:
        return self.n_correct / max(self.n_seen, 1)

    def add(self, labels: np.ndarray, pred: np.ndarray, valid: np.ndarray) -> None:
        np.add.at(self.confusion, (labels[valid], pred[valid]), 1)


def layer_params(cfg: Config, schedule: Optional[K.Schedule] = None):
    """``(hidden LIFParams, output LIFParams, input SynapseParams, hidden
    SynapseParams)`` from a config. With ``learning.lr_anneal`` the rate falls
    to zero at the end of ``training.epochs`` epochs of the learning
    ``schedule`` (required then)."""
    n, s, l = cfg.neuron, cfg.synapse, cfg.learning
    total = 0
    if l.lr_anneal and (schedule is None or schedule.learning):
        if schedule is None:
            raise ValueError("learning.lr_anneal needs the training schedule to know where the rate reaches 0")
        total = int(cfg.training.epochs) * schedule.batches_per_epoch
    base = dict(dt=n.dt, tau_m=n.tau_m, v_leak=n.v_leak, v_th=n.v_th, v_reset=n.v_reset,
                v_exc=n.v_exc, v_inh=n.v_inh, g_exc=n.g_exc, t_ref=int(n.t_ref),
                inhibition=n.inhibition)
    hid = K.LIFParams(**base, eta_mp=l.eta_mp, eta_c=0.0)
    out = K.LIFParams(**base, eta_mp=0.0, eta_c=l.eta_c, supervision=l.supervision,
                      softmax_scale=l.softmax_scale, softmax_cut=l.softmax_cut, fires=n.output_spikes)
    eta = l.eta0 * l.eta_stdp
    syn_in = K.SynapseParams.from_config(n, s, s.stp_input, eta * l.lr_hidden_scale, l.eta1,
                                         post_trace=l.hidden_trace, lr_decay_batches=l.lr_decay_batches,
                                         lr_total_batches=total)
    syn_out = K.SynapseParams.from_config(n, s, s.stp, eta, l.eta1, l.feedback_delay, l.output_trace,
                                          l.lr_decay_batches, free_pre=l.output_pre == "free",
                                          lr_total_batches=total)
    return hid, out, syn_in, syn_out


def run_reference(weights: Weights, cfg: Config, images: np.ndarray, labels: np.ndarray,
                  sched: K.Schedule, n_batches: int, stats: Optional[ReadoutStats] = None,
                  on_batch: Optional[Callable[[int, Weights], None]] = None,
                  predictions: Optional[np.ndarray] = None,
                  on_step: Optional[Callable[[int, int, dict], None]] = None,
                  reuse_input_drive: bool = True):
    """Run ``n_batches`` cycles of ``sched`` over ``images`` (uint8, (N, 784))
    and ``labels``. With ``sched.learning`` the weights are trained (a copy is
    returned; the argument is not modified). Returns ``(weights, stats)``.
    ``on_batch(global_batch, weights)`` is called after each cycle; each
    sample's prediction is written into ``predictions`` (indexed like
    ``images``) when it is given. ``on_step(global_batch, tau, state)`` sees
    every step's spikes and potentials (``s_in, s_h, v_h, s_o, v_o``).
    ``reuse_input_drive=False`` recomputes the input synapses' drive in a
    replayed nudged phase instead of reusing the free phase's (the same
    numbers; for tests and the benchmark)."""
    w = weights.copy()
    stats = stats or ReadoutStats(w.n_output)
    hid, out, syn_in, syn_out = layer_params(cfg, sched)
    B, H, O = sched.batch_size, w.n_hidden, w.n_output
    n_in = w.w_in.shape[0]
    x_all = intensities(images)
    enc = cfg.encoding
    # the top-down channel from the hidden synapses to the hidden layer, primed
    # with feedback_delay - 1 messages as the Lava process primes it
    td_channel = [np.zeros((B, H))] * (syn_out.feedback_delay - 1)
    # A replayed nudged phase sees the free phase's input spikes again from a
    # reset synapse state, so its input drive is the free phase's, step for
    # step: keep it instead of recomputing the largest product of the step.
    reuse_drive = reuse_input_drive and sched.replay_input and sched.t_nudge <= sched.t_free
    delay = syn_out.feedback_delay
    for g in range(sched.start_batch, sched.start_batch + n_batches):
        idx, valid = sched.indices(g)
        x, y = x_all[idx], labels[idx].astype(np.int64)
        uni = K.encoder_uniforms(sched.seed, sched.epoch(g), idx, sched.n_draw, n_in)
        teach = K.cycle_teacher(sched, g, idx, y, O, enc.teacher)
        acc, free_drive = {}, []
        split_in, split_out = eq.split_ei(w.w_in, w.input_sign), eq.split_ei(w.w_out, w.hidden_sign)
        for tau in range(sched.cycle):
            phase = sched.phase(tau)
            if tau == sched.t_free:  # the free phase's mean output potentials (supervision = "softmax")
                free_v = vsum / sched.t_free
            if sched.phase_start(tau):  # reset to rest at each phase start
                vh, rh = np.full((B, H), hid.v_leak), np.zeros((B, H))
                vo, ro = np.full((B, O), out.v_leak), np.zeros((B, O))
                de1, di1, de2, di2 = (np.zeros((B, H)), np.zeros((B, H)), np.zeros((B, O)), np.zeros((B, O)))
                u1, x1, u2, x2 = np.zeros((B, n_in)), np.ones((B, n_in)), np.zeros((B, H)), np.ones((B, H))
                td = np.zeros((B, H))
                a_in, a_h, a_o = np.zeros((B, n_in)), np.zeros((B, H)), np.zeros((B, O))
                vsum, vhsum = np.zeros((B, O)), np.zeros((B, H))
            s_in = K.encode(uni[sched.input_step(tau)], x, enc.max_rate)
            nudged = phase != K.FREE
            sign = sched.nudge_sign(phase)
            if nudged and reuse_drive:
                de1, di1, u1, x1 = free_drive[sched.step_in_phase(tau)]
            else:
                de1, di1, u1, x1 = K.synapse_forward(split_in, de1, di1, u1, x1, s_in, syn_in)
                if reuse_drive:
                    free_drive.append((de1, di1, u1, x1))
            td_channel.append(td if sched.top_down_sent(tau, delay) else np.zeros_like(td))
            vh, rh, s_h, _ = K.lif_step(vh, rh, de1, di1, td_channel.pop(0), None, nudged, hid)
            de2, di2, u2, x2 = K.synapse_forward(split_out, de2, di2, u2, x2, s_h, syn_out)
            vo, ro, s_o, err = K.lif_step(vo, ro, de2, di2, None, teach[tau], nudged, out,
                                          free_v if nudged else None, sign)
            td = err @ w.w_out.T
            a_in += s_in
            a_h += s_h
            a_o += s_o
            vsum += vo
            vhsum += vh
            if on_step is not None:
                on_step(g, tau, {"s_in": s_in, "s_h": s_h, "v_h": vh, "s_o": s_o, "v_o": vo})
            if tau == sched.t_free - 1:
                pred = K.readout_predict(a_o / sched.t_free * sched.t_free, vsum / sched.t_free,
                                         enc.readout)
                stats.add(y, pred, valid)
                if predictions is not None:
                    predictions[idx[valid]] = pred[valid]
            if sched.phase_end(tau):
                length = sched.phase_length(tau)
                trace_h = (a_h / length, vhsum / length)
                trace_o = (a_o / length, vsum / length)
                acc[phase] = (a_in / length, trace_h[0], trace_h[syn_in.post_trace], trace_o[syn_out.post_trace])
        if sched.learning and sched.symmetric:
            (pf, hf, _, _), (pp, hp, hp_post, op), (pm, hm, hm_post, om) = (
                acc[K.FREE], acc[K.NUDGED], acc[K.NUDGED_NEG])
            new_in = K.synapse_learn_symmetric(w.w_in, w.input_sign, pf, pp, hp_post, pm, hm_post, syn_in, g)
            new_out = K.synapse_learn_symmetric(w.w_out, w.hidden_sign, hf, hp, op, hm, om, syn_out, g)
            w.w_in, w.w_out = new_in, new_out
        elif sched.learning:
            (pf, hf, hf_post, of), (pn, hn, hn_post, on) = acc[K.FREE], acc[K.NUDGED]
            new_in = K.synapse_learn(w.w_in, w.input_sign, pf, hf_post, pn, hn_post, syn_in, g)
            new_out = K.synapse_learn(w.w_out, w.hidden_sign, hf, of, hn, on, syn_out, g)
            w.w_in, w.w_out = new_in, new_out
        if on_batch is not None:
            on_batch(g, w)
    return w, stats


def record(weights: Weights, cfg: Config, images: np.ndarray, seed: int = 0) -> dict:
    """The free phase of each of ``images`` step by step (inference, as in a
    test): ``{"s_in", "s_h", "v_h", "s_o", "v_o"}``, each ``(T, N, n)`` with
    ``T = encoding.t_free``, for spike rasters and potential traces."""
    n = len(images)
    sched = K.Schedule(n, n, int(cfg.encoding.t_free), int(cfg.encoding.t_nudge), False, seed=seed)
    steps: dict = {}

    def keep(g, tau, state):
        for key, value in state.items():
            steps.setdefault(key, []).append(np.array(value, dtype=np.float64))

    run_reference(weights, cfg, images, np.zeros(n, dtype=np.int64), sched, 1, on_step=keep)
    return {key: np.stack(values) for key, values in steps.items()}
