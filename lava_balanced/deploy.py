"""The deployable form of a trained Balanced SNN, and the numpy reference
that runs it.

A trained network has two things no neuromorphic exchange format has: the
conductance-based inhibition of eq. 1 and the short-term plasticity of
eq. 7-9. Its deployable form is a chain of current-based LIF layers
(:class:`DeployLayer`), one step of which is (``lava_balanced.equations``)::

    I <- decay_syn * I + (s @ weight + bias)    (dense_drive, cuba_current_step)
    V <- decay_mem * V + (1 - decay_mem) * V_L + gain * I   (cuba_membrane_step)
    spike where V > V_th, then V <- V_reset                 (fire_above)

(a layer with ``V_th = +inf`` never fires: a leaky integrator, NIR's CubaLI,
the output layer of a network trained with ``neuron.output_spikes =
false``), which is NIR's CubaLIF (or LIF when ``decay_syn = 0``) discretised at a step
``dt`` (see :mod:`lava_balanced.exporters.nir`), Lava's LIF, and, quantised,
Loihi's CUBA neuron. :func:`from_trained` maps a trained network onto it:

* the hidden layer is mapped exactly (its input synapses are all excitatory
  and have no STP): ``decay_mem = exp(-dt/tau_m)``, ``decay_syn =
  exp(-dt/tau_s)``, ``weight = (1 - decay_mem) w_in``, ``gain = 1``;
* STP (eq. 7-9) on the hidden -> output synapses becomes a fixed gain per
  presynaptic neuron, ``A * g_j`` folded into row ``j`` of the weights.
  ``stp="calibrated"`` measures ``g_j`` as neuron ``j``'s mean release ``u x``
  per spike over the presentation window on calibration images (the
  transient regime the network really works in: state starts at rest every
  sample); ``stp="steady"`` uses the analytic steady state ``u* x*`` of a
  regular train at ``stp_rate`` spikes per step; ``stp="first"`` the release
  of a first spike from rest, ``U``;
* the inhibitory conductance ``g_I (V_I - V)`` of eq. 1 becomes the current
  it injects at the potential ``inh_potential`` (default the leak
  potential): an inhibitory row is scaled by ``inh_potential - V_I`` and
  keeps its negative sign. The shunting (the faster decay under large
  ``g_I``) is dropped. A network trained with ``neuron.inhibition =
  "current"`` (and ``synapse.stp = false``) needs neither approximation: its
  deployable form computes what it computes.

Both approximations change what the output layer computes; their cost is
measured (``lava-balanced export --measure``, ``docs/results.md``), not
assumed.

The encoding travels with the network (:class:`DeployNet`): ``t_steps``
steps of random sampling at ``max_rate`` per step, each sample's random
stream keyed by ``(seed, 0, sample index)`` exactly as in evaluation, and the
readout (most output spikes, ties broken by the higher mean potential).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import numpy as np

from . import equations as eq
from . import kernels as K
from .config import Config
from .model import Weights, check_dale

__all__ = ["DeployLayer", "DeployNet", "from_trained", "run_deploy", "run_chain", "check_chain",
           "evaluate_deploy", "stp_gains",
           "STP_MODES"]

STP_MODES = ("calibrated", "steady", "first", "none")


def _vec(value, n: int, name: str) -> np.ndarray:
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 0:
        a = np.full(n, float(a))
    if a.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have shape ({n},), got {a.shape}")
    ok = np.isfinite(a) | (a == np.inf) if name == "v_th" else np.isfinite(a)
    if not np.all(ok):
        raise ValueError(f"{name} contains NaN or infinite values" + (" (only +inf, a layer that never "
                                                                       "fires, is allowed)" if name == "v_th" else ""))
    return a


@dataclass
class DeployLayer:
    """One current-based LIF layer and the dense connection into it.

    ``weight`` (n_pre, n_post): the current a presynaptic spike adds;
    ``bias`` (n_post,): the current added every step; ``decay_syn``,
    ``decay_mem`` in [0, 1]; ``gain``: how much of ``I`` enters ``V`` per
    step; ``v_leak``, ``v_th``, ``v_reset``. Every per-neuron field accepts a
    scalar and is stored as an (n_post,) array. ``v_th = inf`` (all neurons
    of the layer) makes a non-firing layer of leaky integrators.
    """

    weight: np.ndarray
    bias: Any = 0.0
    decay_syn: Any = 0.0
    decay_mem: Any = 0.0
    gain: Any = 1.0
    v_leak: Any = 0.0
    v_th: Any = 1.0
    v_reset: Any = 0.0
    pre_sign: Optional[np.ndarray] = None

    def __post_init__(self):
        self.weight = np.asarray(self.weight, dtype=np.float64)
        if self.weight.ndim != 2:
            raise ValueError(f"weight must have shape (n_pre, n_post), got {self.weight.shape}")
        if not np.all(np.isfinite(self.weight)):
            raise ValueError("weight contains NaN or infinite values")
        if self.pre_sign is not None:
            self.pre_sign = np.asarray(self.pre_sign, dtype=np.float64)
            if self.pre_sign.shape != (self.weight.shape[0],) or not np.all(np.isin(self.pre_sign, (-1.0, 1.0))):
                raise ValueError(f"pre_sign must hold +1 / -1 per presynaptic neuron, shape ({self.weight.shape[0]},)")
            self.check_dale()
        n = self.weight.shape[1]
        for name in ("bias", "decay_syn", "decay_mem", "gain", "v_leak", "v_th", "v_reset"):
            setattr(self, name, _vec(getattr(self, name), n, name))
        if np.any(np.isinf(self.v_th)) and not np.all(np.isinf(self.v_th)):
            raise ValueError("v_th is infinite for some neurons of the layer and not for others: a layer either "
                             "fires or is a non-firing integrator")
        for name in ("decay_syn", "decay_mem"):
            a = getattr(self, name)
            if np.any((a < 0) | (a > 1)):
                raise ValueError(f"{name} must lie in [0, 1] (a step dt longer than the time constant "
                                 f"cannot be discretised stably), got values in [{a.min()}, {a.max()}]")

    def check_dale(self) -> "DeployLayer":
        """With ``pre_sign`` set (+1 excitatory, -1 inhibitory presynaptic
        neuron), every weight must carry its row's sign (Dale's law); raises
        :class:`lava_balanced.model.DaleViolation` naming the first offender."""
        if self.pre_sign is not None:
            check_dale(self.weight, self.pre_sign)
        return self

    @property
    def fires(self) -> bool:
        """False for a layer of leaky integrators (``v_th = +inf`` for every
        neuron)."""
        return not (self.v_th.size > 0 and bool(np.all(np.isposinf(self.v_th))))

    @property
    def n_pre(self) -> int:
        return self.weight.shape[0]

    @property
    def n_post(self) -> int:
        return self.weight.shape[1]

    def dense_args(self) -> Dict[str, Any]:
        """Arguments of the Lava :class:`BatchDense` that carries this layer's
        connection."""
        return {"weights": self.weight, "bias": self.bias}

    def neuron_params(self) -> Dict[str, np.ndarray]:
        """Parameters of the Lava :class:`CubaLIFLayer` of this layer."""
        return {k: getattr(self, k) for k in ("decay_syn", "decay_mem", "gain", "v_leak", "v_th", "v_reset")}

    def initial_state(self, b: int):
        """``(I, V)`` at rest for a batch of ``b`` samples."""
        return np.zeros((b, self.n_post)), np.broadcast_to(self.v_leak, (b, self.n_post)).copy()

    def step(self, i: np.ndarray, v: np.ndarray, s: np.ndarray):
        """One step; returns ``(i, v, spikes)``."""
        i = eq.cuba_current_step(i, eq.dense_drive(s, self.weight, self.bias), self.decay_syn)
        v = eq.cuba_membrane_step(v, i, self.decay_mem, self.gain, self.v_leak)
        spikes, v = eq.fire_above(v, self.v_th, self.v_reset)
        return i, v, spikes


@dataclass
class DeployNet:
    """A chain of :class:`DeployLayer` with the encoding it expects.

    ``dt`` (ms) is the step the layers' decays assume; ``t_steps`` the steps a
    sample is shown; ``max_rate`` the encoder's spike probability per step at
    intensity 1; ``seed`` the encoder seed; ``readout`` ``"spikes"`` or
    ``"potential"``; ``metadata`` describes the mapping (free-form).
    """

    layers: List[DeployLayer]
    dt: float = 1.0
    t_steps: int = 16
    max_rate: float = 1.0
    seed: int = 0
    readout: str = "spikes"
    metadata: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        check_chain(self)

    @property
    def n_in(self) -> int:
        return self.layers[0].n_pre

    @property
    def n_out(self) -> int:
        return self.layers[-1].n_post


# ---------------------------------------------------------------------------
def check_chain(net) -> None:
    """What every chain of layers (a :class:`DeployNet`, a
    :class:`lava_balanced.exporters.loihi.LoihiNet`) must satisfy: layers that
    fit one another, a known readout, a positive number of steps and a spike
    probability in (0, 1]. Raises ``ValueError`` naming the problem."""
    name = type(net).__name__
    if not net.layers:
        raise ValueError(f"a {name} needs at least one layer")
    for k in range(1, len(net.layers)):
        if net.layers[k].n_pre != net.layers[k - 1].n_post:
            raise ValueError(f"layer {k} expects {net.layers[k].n_pre} inputs but layer {k - 1} "
                             f"has {net.layers[k - 1].n_post} neurons")
    if net.readout not in ("spikes", "potential"):
        raise ValueError(f"readout must be 'spikes' or 'potential', got {net.readout!r}")
    if int(net.t_steps) != net.t_steps or net.t_steps < 1:
        raise ValueError(f"t_steps must be a positive integer, got {net.t_steps}")
    if not (0 < net.max_rate <= 1):
        raise ValueError(f"max_rate must lie in (0, 1], got {net.max_rate}")


def run_chain(net, images: np.ndarray, batch_size: int = 500, return_traces: bool = False):
    """Classify ``images`` (uint8 (N, n_in)) with any chain of layers that
    have ``initial_state(b)`` and ``step(*state, spikes) -> (*state,
    spikes)`` (float :class:`DeployLayer`, integer
    :class:`lava_balanced.exporters.loihi.LoihiLayer`): the evaluation
    encoder streams, and the readout arithmetic of the Lava ``Readout``, so
    the Lava processes give identical predictions. Returns the predictions
    (N,), and with ``return_traces`` also ``(counts, v_mean)`` of the output
    layer, each (N, n_out)."""
    images = np.asarray(images)
    if images.ndim != 2 or images.shape[1] != net.n_in:
        raise ValueError(f"images must have shape (N, {net.n_in}), got {images.shape}")
    n = len(images)
    x_all = images.astype(np.float32) / np.float32(255.0)
    preds = np.empty(n, dtype=np.int64)
    counts_all = np.empty((n, net.n_out), dtype=np.int64)
    vmean_all = np.empty((n, net.n_out))
    for start in range(0, n, batch_size):
        idx = np.arange(start, min(start + batch_size, n))
        uni = K.encoder_uniforms(net.seed, 0, idx, net.t_steps, net.n_in)
        b = len(idx)
        state = [L.initial_state(b) for L in net.layers]
        counts = np.zeros((b, net.n_out), dtype=np.int64)
        vsum = None
        for t in range(net.t_steps):
            s = K.encode(uni[t], x_all[idx], net.max_rate)
            for k, L in enumerate(net.layers):
                *state[k], s = L.step(*state[k], s)
            counts += s
            v = state[-1][1]
            vsum = v.copy() if vsum is None else vsum + v
        # as the Lava readout computes it: from the rate and the mean potential
        vmean = vsum / net.t_steps
        preds[idx] = K.readout_predict(counts / net.t_steps * net.t_steps, vmean, net.readout)
        counts_all[idx], vmean_all[idx] = counts, vmean
    if return_traces:
        return preds, counts_all, vmean_all
    return preds


def run_deploy(net: DeployNet, images: np.ndarray, batch_size: int = 500, return_traces: bool = False):
    """Classify ``images`` with the numpy reference of a :class:`DeployNet`
    (:func:`run_chain`)."""
    return run_chain(net, images, batch_size, return_traces)


# ---------------------------------------------------------------------------
def stp_gains(weights: Weights, cfg: Config, mode: str = "calibrated",
              images: Optional[np.ndarray] = None, rate: float = 0.25) -> np.ndarray:
    """The release ``g_j`` per presynaptic spike that replaces STP (eq. 7-9)
    for each hidden neuron ``j`` (see the module docstring); multiply by
    ``A`` for the weight gain."""
    s = cfg.synapse
    dt = cfg.neuron.dt
    decay_f, decay_d = np.exp(-dt / s.tau_f), np.exp(-dt / s.tau_d)
    h = weights.n_hidden
    if mode == "first":
        return np.full(h, s.U)
    if mode == "steady":
        if not (0 < rate <= 1):
            raise ValueError(f"the steady-state STP rate must lie in (0, 1] spikes per step, got {rate}")
        u, x = eq.stp_steady_state(1.0 / rate, s.U, decay_f, decay_d)
        return np.full(h, u * x)
    if mode != "calibrated":
        raise ValueError(f"stp mode must be one of {STP_MODES}, got {mode!r}")
    if images is None or len(images) == 0:
        raise ValueError("stp='calibrated' needs calibration images")
    from .reference import record
    rec = record(weights, cfg, images, seed=cfg.training.seed)
    spikes = rec["s_h"]  # (T, N, H)
    u = np.zeros(spikes.shape[1:])
    x = np.ones(spikes.shape[1:])
    released = np.zeros(h)
    for t in range(spikes.shape[0]):
        u, x, r = eq.stp_step(u, x, spikes[t], s.U, decay_f, decay_d)
        released += r.sum(axis=0)
    n_spikes = spikes.sum(axis=(0, 1))
    return np.where(n_spikes > 0, released / np.maximum(n_spikes, 1), s.U)


def from_trained(weights: Weights, cfg: Config, stp: str = "calibrated",
                 calibration_images: Optional[np.ndarray] = None, stp_rate: float = 0.25,
                 inh_potential: Optional[float] = None) -> DeployNet:
    """The deployable form of a trained 784-H-10 network (module docstring).

    Raises :class:`lava_balanced.model.DaleViolation` for weights whose signs
    break Dale's law, and ``ValueError`` for what has no deployable form
    (refractoriness, a tonic excitatory conductance)."""
    weights.check()
    n = cfg.neuron
    if n.t_ref != 0:
        raise ValueError(f"neuron.t_ref = {n.t_ref}: refractoriness has no deployable form (NIR has no "
                         "refractory LIF); export a network trained with t_ref = 0")
    if n.g_exc != 0:
        raise ValueError(f"neuron.g_exc = {n.g_exc}: a tonic conductance has no deployable form")
    if stp not in STP_MODES:
        raise ValueError(f"stp must be one of {STP_MODES}, got {stp!r}")
    decay_mem = float(np.exp(-n.dt / n.tau_m))
    decay_syn = float(np.exp(-n.dt / cfg.synapse.tau_s))
    common = dict(decay_syn=decay_syn, decay_mem=decay_mem, gain=1.0, v_leak=n.v_leak,
                  v_th=n.v_th, v_reset=n.v_reset)
    hidden = DeployLayer(weight=(1.0 - decay_mem) * weights.w_in, pre_sign=weights.input_sign, **common)
    # hidden -> output: STP gain per presynaptic neuron, conductance -> current
    row = np.ones(weights.n_hidden)
    gains = None
    if cfg.synapse.stp:
        if stp == "none":
            raise ValueError("the network was trained with STP: choose an STP mapping "
                             f"({', '.join(STP_MODES[:-1])})")
        gains = stp_gains(weights, cfg, stp, calibration_images, stp_rate)
        row = row * cfg.synapse.A * gains
    if n.inhibition == "current" and inh_potential is not None and inh_potential != n.v_leak:
        raise ValueError("the network was trained with current-based inhibition (neuron.inhibition = "
                         "'current'): its inhibitory current is exact at V_L; inh_potential does not apply")
    v_at = n.v_leak if inh_potential is None else float(inh_potential)
    inhibitory = weights.hidden_sign < 0
    row = np.where(inhibitory, row * (v_at - n.v_inh), row)
    if not n.output_spikes:  # trained without firing: leaky integrators (NIR CubaLI)
        common = dict(common, v_th=np.inf)
    output = DeployLayer(weight=(1.0 - decay_mem) * weights.w_out * row[:, None],
                         pre_sign=weights.hidden_sign, **common)
    meta = {
        "source": "lava-balanced trained Balanced SNN (Zhang et al., IJCAI-18)",
        "stp_mapping": stp if cfg.synapse.stp else "none (trained without STP)",
        "stp_rate": stp_rate if stp == "steady" else None,
        "inhibition_mapping": ("exact (trained with current-based inhibition)" if n.inhibition == "current"
                               else f"conductance -> current at V = {v_at} (driving force {v_at - n.v_inh})"),
        "n_calibration_images": int(len(calibration_images)) if (stp == "calibrated" and cfg.synapse.stp) else 0,
    }
    if gains is not None:
        meta["stp_gain_mean"] = float(np.mean(cfg.synapse.A * gains))
    return DeployNet([hidden, output], dt=n.dt, t_steps=int(cfg.encoding.t_free),
                     max_rate=cfg.encoding.max_rate, seed=cfg.training.seed,
                     readout=cfg.encoding.readout, metadata=meta)


# ---------------------------------------------------------------------------
def _lava_deploy_job(net, images, labels, batch_size: int, tag: str, report) -> Dict[str, Any]:
    from .deploy_network import DeployNetwork  # Lava only in the isolated child

    lava_net = DeployNetwork(net, images, labels, batch_size)
    try:
        lava_net.run(tag)
        return {"confusion": lava_net.confusion(), "predictions": lava_net.predictions()}
    finally:
        lava_net.stop()


def evaluate_deploy(net, images: np.ndarray, labels: np.ndarray, backend: str = "lava",
                    tag: str = "floating_pt_async", batch_size: int = 100,
                    timeout: Optional[float] = None):
    """Classify ``images`` with a deploy network (a :class:`DeployNet`, or a
    quantised :class:`lava_balanced.exporters.loihi.LoihiNet` with
    ``tag="fixed_pt"``) and return an :class:`lava_balanced.training.EvalResult`.
    ``backend="lava"`` runs the Lava processes (in an isolated child with a
    timeout), ``"reference"`` the numpy path."""
    import time

    from .runner import run_isolated
    from .training import EvalResult

    images, labels = np.asarray(images), np.asarray(labels).astype(np.int64)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    t0 = time.time()
    if backend == "reference":
        preds = net.run_reference(images) if hasattr(net, "run_reference") else run_deploy(net, images)
    elif backend == "lava":
        steps = -(-len(images) // batch_size) * int(net.t_steps)
        width = max(L.n_post for L in net.layers)
        out = run_isolated(_lava_deploy_job, net, images, labels, batch_size, tag,
                           timeout=timeout or 300.0 + steps * 0.02 * max(1.0, batch_size / 64) * max(1.0, width / 100))
        preds = out["predictions"]
    else:
        raise ValueError(f"backend must be 'lava' or 'reference', got {backend!r}")
    confusion = np.zeros((net.n_out, net.n_out), dtype=np.int64)
    np.add.at(confusion, (labels, preds), 1)
    return EvalResult(float(np.trace(confusion) / max(len(labels), 1)), confusion, preds, time.time() - t0)
