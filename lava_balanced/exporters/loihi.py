"""Loihi-style fixed point: quantise a :class:`lava_balanced.deploy.DeployNet`
into Loihi's integer CUBA neuron and 8-bit dense synapses, run it (numpy
reference and Lava ``fixed_pt`` models), and store it in lava-dl netx's HDF5
``.net`` layout.

What the integer network computes
---------------------------------
Per layer, one step (``lava_balanced.equations``, bit-exact with Lava's
``PyDenseModelBitAcc`` + ``PyLifModelBitAcc`` except that the activation is
delivered in the same step, without the stock Dense's one-step delay)::

    a = sum over sign modes m of (s_m @ W_m) << weight_exp   loihi_dense_accumulate
    u = wrap24(decay(u, du + 1) + (a << 6))          loihi_current_step
    v = clip24(decay(v, dv) + u + (bias_mant << bias_exp))   loihi_membrane_step
    spike where v > vth_mant << 6, then v = 0        loihi_fire

with ``decay(x, d) = sign(x) (|x| (4096 - d) >> 12)``. State is 0 at the first
step of every sample; the input encoding and the readout are the float
network's (``t_steps``, ``max_rate``, ``seed``, ``readout``).

How a float layer is mapped (:func:`quantize`)
----------------------------------------------
With ``lam`` the layer's scale (``LoihiLayer.scale``), the integer state
stands for ``v = lam (V - V_L)`` and ``u = lam * gain * I``:

* weights: ``W_mant[i, j] ~ lam gain_j W[i, j] / 2**(weight_exp + 6)``; the
  per-neuron gain is folded into its column (it must be > 0). ``lam`` is set
  so that the largest ``|gain_j W_ij|`` of the layer is mantissa 255 (the
  full 8 bits);
* sign modes (Lava's ``SignMode`` values, one per presynaptic row): rows of
  excitatory neurons (all ``>= 0``) are ``EXCITATORY`` (mantissas 0..255),
  rows of inhibitory neurons (all ``<= 0``) ``INHIBITORY`` (-255..0): on
  Loihi these are two connections, so Dale's law is enforced and no bit is
  lost. A row with both signs (a non-Dale, e.g. NIR-imported, net) falls back
  to ``MIXED`` (even mantissas -256..254: one bit lost), with a warning;
* decays: ``dv = round(4096 (1 - decay_mem))``; Lava adds ``ds_offset = 1``
  to ``du``, so ``du = round(4096 (1 - decay_syn)) - 1`` (both clipped to
  0..4095; ``decay_syn = 0`` is exact, ``du = 4095``);
* threshold: ``vth_mant = round(lam (V_th - V_L) / 64)`` (17 bits). A
  layer that never fires (``V_th = inf``, the leaky-integrator output of a
  network trained with ``neuron.output_spikes = false``) gets the largest
  mantissa, ``2**17 - 1``, and an exponent at which ``v`` provably stays
  below it (``|v| <= (u bound + |bias|) * 4096 / dv``): on Loihi it then
  never fires either, and is read out by its potential;
* ``V_L``: Loihi decays ``v`` to 0 and resets it to 0, so a layer maps
  exactly when ``V_reset == V_L`` (the potential is shifted by ``V_L``;
  uniform over the last layer, whose potentials break readout ties); other
  resets are refused;
* bias: Loihi's bias enters ``v``, the float bias enters ``I``; they agree
  only where ``decay_syn == 0`` (then ``v`` gets ``lam gain b`` per step as
  ``bias_mant << bias_exp``, 13-bit signed mantissa, exponent 0..7). A
  non-zero bias elsewhere, or one that does not fit, is refused;
* ``weight_exp`` (-8..7) is the largest for which the threshold fits 17 bits,
  the bias fits, and ``|u|`` provably stays inside 24 bits (no wrap-around)
  even with every presynaptic neuron spiking at every step:
  ``max(sum of positive, |sum of negative|) column activation << 6 * 4096 /
  (du + 1) < 2**23``. A larger exponent means a larger ``lam``: a finer
  threshold and smaller relative rounding of the decays.

netx layout (:func:`write_netx` / :func:`read_netx`)
----------------------------------------------------
HDF5, lava-dl netx's ``.net`` layout for dense CUBA layers, plus attributes
and datasets netx does not have (netx ignores keys it does not know)::

    /                       attrs: format = "lava-balanced-loihi", version = 1,
                                   t_steps, max_rate, seed, readout, dt, n_in,
                                   n_out, encoding (text: how inputs become
                                   spikes), metadata (JSON)
    /layer/<k>/             k = 0, 1, ... (one dense + CUBA block per layer)
        type                (1,) S10  b"dense"
        shape               (1,) int  [n_post]
        weight              (n_post, n_pre) int16: the 8-bit mantissas W_mant.T
        bias                (n_post,) int: netx's bias (mantissa with netx's
                            fixed bias_exp = 6), only when bias_mant <<
                            bias_exp is a multiple of 64 (attr netx_bias_exact)
        neuron/type         (1,) S10  b"CUBA"
        neuron/iDecay       du + 1 (netx's convention: it gives Lava's LIF
                            du = iDecay - 1); a scalar when uniform, else (n_post,)
        neuron/vDecay       dv (same)
        neuron/vThMant      vth_mant (same)
        neuron/refDelay     1
        neuron/gradedSpike  False
        neuron/bias_mant, neuron/bias_exp   (n_post,) lava-balanced extension
        sign_mode           (n_pre,) int8, Lava SignMode values per input row
                            (1 MIXED, 2 EXCITATORY, 3 INHIBITORY)  [extension]
        v_leak              (n_post,) float64: the shifted-out V_L [extension]
        attrs: weight_exp (int; effective weight = W_mant * 2**weight_exp),
               scale (float, lam above), sign_modes (text legend),
               netx_bias_exact (bool)

A stock netx reader derives its own weight exponent from ``weight`` and uses
one sign mode for the whole matrix (``MIXED`` for a Dale layer): it does not
see ``weight_exp`` or the E/I split, so it runs the activations ``2**-weight_exp``
smaller. Use :func:`read_netx` for the exact network.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from .. import equations as eq
from ..deploy import check_chain, run_chain

__all__ = ["LoihiLayer", "LoihiNet", "quantize", "write_netx", "read_netx", "SIGN_MIXED",
           "SIGN_EXCITATORY", "SIGN_INHIBITORY", "WEIGHT_EXP_RANGE", "ENCODING"]

# Lava's lava.utils.weightutils.SignMode values
SIGN_MIXED = 1
SIGN_EXCITATORY = 2
SIGN_INHIBITORY = 3
_SIGN_NAMES = {SIGN_MIXED: "MIXED", SIGN_EXCITATORY: "EXCITATORY", SIGN_INHIBITORY: "INHIBITORY"}
_SIGN_RANGE = {SIGN_EXCITATORY: (0, 255), SIGN_INHIBITORY: (-255, 0), SIGN_MIXED: (-256, 254)}

WEIGHT_EXP_RANGE = (-8, 7)
DECAY_MAX = 4095                       # 12-bit du, dv
VTH_MAX = (1 << 17) - 1                # 17-bit threshold mantissa
BIAS_MANT_RANGE = (-4096, 4095)        # 13-bit signed
BIAS_EXP_RANGE = (0, 7)                # 3-bit unsigned
STATE_LIMIT = eq.LOIHI_STATE_MAX       # |u| must stay below 2**23

ENCODING = ("per sample, per step t < t_steps: input i spikes iff U[t, i] < (pixel_i / 255) * max_rate, "
            "U = numpy.random.default_rng([seed, 0xE7C, 0, sample_index]).random((t_steps, n_in), "
            "dtype=float32) (lava_balanced.kernels.encoder_uniforms); every layer's u and v are 0 at the "
            "first step of a sample; class = most output spikes, ties broken by the higher mean v "
            "(readout 'spikes') or highest mean v (readout 'potential')")


def _int_vec(value, n: int, name: str) -> np.ndarray:
    a = np.asarray(value)
    if a.ndim == 0:
        a = np.full(n, a)
    if a.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have shape ({n},), got {a.shape}")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise ValueError(f"{name} must hold integers")
    elif a.dtype.kind not in "iub":
        raise ValueError(f"{name} must hold integers, got dtype {a.dtype}")
    return a.astype(np.int64)


def _check_range(a: np.ndarray, lo: int, hi: int, name: str) -> None:
    if a.size and (a.min() < lo or a.max() > hi):
        raise ValueError(f"{name} must lie in [{lo}, {hi}], got values in [{a.min()}, {a.max()}]")


@dataclass
class LoihiLayer:
    """One dense connection (8-bit weight mantissas, a sign mode per
    presynaptic row, a shared exponent) and the Loihi CUBA neurons it drives.

    ``weight`` (n_pre, n_post) int mantissas; ``sign_mode`` (n_pre,) Lava
    ``SignMode`` values (:data:`SIGN_EXCITATORY` rows 0..255,
    :data:`SIGN_INHIBITORY` -255..0, :data:`SIGN_MIXED` even -256..254);
    ``weight_exp`` in -8..7; per neuron (n_post,): ``du``, ``dv`` (0..4095),
    ``vth_mant`` (0..2**17-1), ``bias_mant`` (13-bit signed), ``bias_exp``
    (0..7). ``scale`` (the float->integer scale ``lam``: ``v = lam (V -
    V_L)``) and ``v_leak`` describe the float layer it came from; they do not
    enter the integer dynamics. Every range is checked (``ValueError``)."""

    weight: np.ndarray
    sign_mode: np.ndarray
    weight_exp: int
    du: Any
    dv: Any
    vth_mant: Any
    bias_mant: Any = 0
    bias_exp: Any = 0
    scale: float = 1.0
    v_leak: Any = 0.0

    def __post_init__(self):
        w = np.asarray(self.weight)
        if w.ndim != 2:
            raise ValueError(f"weight must have shape (n_pre, n_post), got {w.shape}")
        if w.dtype.kind == "f" and (not np.all(np.isfinite(w)) or np.any(w != np.round(w))):
            raise ValueError("weight must hold integer mantissas (NaN, infinite or fractional values found)")
        self.weight = w.astype(np.int64)
        n_pre, n = self.weight.shape
        self.sign_mode = _int_vec(self.sign_mode, n_pre, "sign_mode")
        bad = ~np.isin(self.sign_mode, list(_SIGN_RANGE))
        if np.any(bad):
            raise ValueError(f"sign_mode must be {SIGN_MIXED} (MIXED), {SIGN_EXCITATORY} (EXCITATORY) or "
                             f"{SIGN_INHIBITORY} (INHIBITORY); rows {np.flatnonzero(bad)[:10].tolist()} are not")
        for mode, (lo, hi) in _SIGN_RANGE.items():
            rows = self.sign_mode == mode
            if not np.any(rows):
                continue
            sub = self.weight[rows]
            wrong = np.any((sub < lo) | (sub > hi), axis=1)
            if mode == SIGN_MIXED:
                wrong |= np.any(sub % 2 != 0, axis=1)
            if np.any(wrong):
                idx = np.flatnonzero(rows)[wrong]
                raise ValueError(f"rows {idx[:10].tolist()} are declared {_SIGN_NAMES[mode]} but hold weights "
                                 f"outside {lo}..{hi}{' (even values only)' if mode == SIGN_MIXED else ''}")
        if int(self.weight_exp) != self.weight_exp:
            raise ValueError(f"weight_exp must be an integer, got {self.weight_exp}")
        self.weight_exp = int(self.weight_exp)
        _check_range(np.array([self.weight_exp]), *WEIGHT_EXP_RANGE, "weight_exp")
        for name, (lo, hi) in (("du", (0, DECAY_MAX)), ("dv", (0, DECAY_MAX)), ("vth_mant", (0, VTH_MAX)),
                               ("bias_mant", BIAS_MANT_RANGE), ("bias_exp", BIAS_EXP_RANGE)):
            a = _int_vec(getattr(self, name), n, name)
            _check_range(a, lo, hi, name)
            setattr(self, name, a)
        self.scale = float(self.scale)
        if not (np.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"scale must be a positive finite number, got {self.scale}")
        v_leak = np.asarray(self.v_leak, dtype=np.float64)
        self.v_leak = np.full(n, float(v_leak)) if v_leak.ndim == 0 else v_leak
        if self.v_leak.shape != (n,) or not np.all(np.isfinite(self.v_leak)):
            raise ValueError(f"v_leak must be finite, a scalar or shape ({n},)")

    @property
    def n_pre(self) -> int:
        return self.weight.shape[0]

    @property
    def n_post(self) -> int:
        return self.weight.shape[1]

    @property
    def bias(self) -> np.ndarray:
        """Effective bias added to ``v`` every step, ``bias_mant << bias_exp``."""
        return eq.loihi_bias(self.bias_mant, self.bias_exp)

    def effective_weight(self) -> np.ndarray:
        """The float weights (times the folded gain) these mantissas stand
        for: ``W_mant * 2**(weight_exp + 6) / scale``."""
        return self.weight * 2.0 ** (self.weight_exp + eq.LOIHI_ACT_SHIFT) / self.scale

    def dense_args(self) -> Dict[str, Any]:
        """Arguments of the Lava :class:`BatchDense` (``fixed_pt`` model)."""
        return {"weights": self.weight.astype(np.int32), "bias": np.zeros(self.n_post, dtype=np.int32),
                "weight_exp": self.weight_exp, "sign_mode": self.sign_mode.copy()}

    def neuron_params(self) -> Dict[str, np.ndarray]:
        """Parameters of the Lava :class:`CubaLIFLayer` (``fixed_pt`` model)."""
        return {k: getattr(self, k).copy() for k in ("du", "dv", "vth_mant", "bias_mant", "bias_exp")}

    def initial_state(self, b: int):
        """``(u, v)`` at rest (0) for a batch of ``b`` samples."""
        return np.zeros((b, self.n_post), np.int64), np.zeros((b, self.n_post), np.int64)

    def step(self, u: np.ndarray, v: np.ndarray, s: np.ndarray):
        """One integer step; returns ``(u, v, spikes)`` (spikes int8)."""
        a = eq.loihi_dense_accumulate(s, self.weight, self.weight_exp, self.sign_mode)
        u = eq.loihi_current_step(u, a, self.du)
        v = eq.loihi_membrane_step(v, u, self.dv, self.bias)
        spikes, v = eq.loihi_fire(v, self.vth_mant)
        return u, v, spikes.view(np.int8)


@dataclass
class LoihiNet:
    """A chain of :class:`LoihiLayer` with the encoding and readout of the
    float network it was quantised from. ``scales`` (per layer) is the
    float->integer scale used; ``metadata`` records how the net was made."""

    layers: List[LoihiLayer]
    t_steps: int = 16
    max_rate: float = 1.0
    seed: int = 0
    readout: str = "spikes"
    dt: float = 1.0
    metadata: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        check_chain(self)
        self.t_steps, self.seed = int(self.t_steps), int(self.seed)
        self.max_rate, self.dt = float(self.max_rate), float(self.dt)

    @property
    def n_in(self) -> int:
        return self.layers[0].n_pre

    @property
    def n_out(self) -> int:
        return self.layers[-1].n_post

    @property
    def scales(self) -> List[float]:
        return [L.scale for L in self.layers]

    def run_reference(self, images: np.ndarray, batch_size: int = 500, return_traces: bool = False):
        """Classify ``images`` (uint8 (N, n_in)) with the integer numpy path:
        the same encoder streams as :func:`lava_balanced.deploy.run_deploy`
        and the same readout arithmetic as the Lava ``Readout``, so the
        ``fixed_pt`` Lava models give identical predictions. Returns the
        predictions, and with ``return_traces`` also ``(counts, v_mean)``."""
        return run_chain(self, images, batch_size, return_traces)


# ---------------------------------------------------------------------------
def _sign_modes(w: np.ndarray, declared, k: int, allow_mixed: bool) -> np.ndarray:
    pos, neg = np.any(w > 0, axis=1), np.any(w < 0, axis=1)
    if declared is not None:
        d = np.asarray(declared)
        if d.shape != (w.shape[0],):
            raise ValueError(f"layer {k}: signs must have shape ({w.shape[0]},), got {d.shape}")
        if not np.all(np.isin(d, (-1, 0, 1))):
            raise ValueError(f"layer {k}: signs must be +1 (excitatory), -1 (inhibitory) or 0 (mixed)")
        bad_e, bad_i = (d > 0) & neg, (d < 0) & pos
        if np.any(bad_e):
            raise ValueError(f"layer {k}: rows {np.flatnonzero(bad_e)[:10].tolist()} are declared excitatory "
                             "(EXCITATORY sign mode) but hold negative weights (Dale's law violated)")
        if np.any(bad_i):
            raise ValueError(f"layer {k}: rows {np.flatnonzero(bad_i)[:10].tolist()} are declared inhibitory "
                             "(INHIBITORY sign mode) but hold positive weights (Dale's law violated)")
        mode = np.where(d > 0, SIGN_EXCITATORY, np.where(d < 0, SIGN_INHIBITORY, SIGN_MIXED))
    else:
        mode = np.where(neg & ~pos, SIGN_INHIBITORY, np.where(pos & neg, SIGN_MIXED, SIGN_EXCITATORY))
    mixed = int(np.sum(mode == SIGN_MIXED))
    if mixed:
        if not allow_mixed:
            raise ValueError(f"layer {k}: {mixed} presynaptic rows have weights of both signs; Loihi can only "
                             "run them in MIXED sign mode (even mantissas, one bit lost); pass "
                             "allow_mixed=True to accept that")
        warnings.warn(f"layer {k}: {mixed} presynaptic rows have weights of both signs (not Dale's law): "
                      "quantised in MIXED sign mode (even mantissas -256..254, one bit lost)", stacklevel=3)
    return mode


def _mantissas(x: np.ndarray, mode: np.ndarray) -> np.ndarray:
    """Round ``x`` (weights in mantissa units, |x| <= 255) into each row's
    sign-mode range."""
    r = np.round(x)
    out = np.where((mode == SIGN_EXCITATORY)[:, None], np.clip(r, 0, 255),
                   np.where((mode == SIGN_INHIBITORY)[:, None], np.clip(r, -255, 0),
                            np.clip(2.0 * np.round(x / 2.0), -256, 254)))
    return out.astype(np.int64)


def _fit_bias(b: np.ndarray):
    """Integer bias -> (mantissa, exponent) with the smallest exponent, or
    ``None`` if it does not fit 13 + 3 bits."""
    mant = np.zeros(b.shape, np.int64)
    exp = np.zeros(b.shape, np.int64)
    for j, val in enumerate(b):
        for e in range(BIAS_EXP_RANGE[0], BIAS_EXP_RANGE[1] + 1):
            m = int(np.round(val / 2 ** e))
            if BIAS_MANT_RANGE[0] <= m <= BIAS_MANT_RANGE[1]:
                mant[j], exp[j] = m, e
                break
        else:
            return None
    return mant, exp


def _u_bound(mant: np.ndarray, exp: int, du: np.ndarray) -> float:
    """Largest ``|u|`` reachable with every input spiking at every step
    (positive rows alone, or negative rows alone)."""
    pos = eq.loihi_shift(np.maximum(mant, 0).sum(axis=0), exp)
    neg = eq.loihi_shift(np.minimum(mant, 0).sum(axis=0), exp)
    act = np.maximum(np.abs(pos), np.abs(neg)) * 2.0 ** eq.LOIHI_ACT_SHIFT
    return float(np.max(act * eq.LOIHI_DECAY_UNITY / (du + eq.LOIHI_DS_OFFSET))) if act.size else 0.0


def _v_bound(u_bound: float, bias: np.ndarray, dv: np.ndarray) -> float:
    """Largest ``|v|`` reachable when ``|u|`` never exceeds ``u_bound``:
    ``v`` decays by ``dv / 4096`` a step, so it stays below ``(u_bound +
    |bias|) * 4096 / dv`` (infinite without decay)."""
    dv = np.asarray(dv, dtype=np.float64) + eq.LOIHI_DM_OFFSET
    drive = u_bound + np.abs(np.asarray(bias, dtype=np.float64))
    return float(np.max(np.where(dv > 0, drive * eq.LOIHI_DECAY_UNITY / np.maximum(dv, 1), np.inf)))


def _quantize_layer(L, k: int, last: bool, declared, weight_exp: Optional[int], allow_mixed: bool):
    # a non-firing layer (DeployLayer.fires: v_th = inf, leaky integrators)
    # gets the largest threshold, at an exponent where v provably never reaches it
    fires = L.fires
    for name in ("weight", "bias", "decay_syn", "decay_mem", "gain", "v_leak", "v_th", "v_reset"):
        a = np.asarray(getattr(L, name), dtype=np.float64)
        if not np.all(np.isfinite(a)) and not (name == "v_th" and not fires):
            raise ValueError(f"layer {k}: {name} contains NaN or infinite values")
    gain, v_leak = np.asarray(L.gain, float), np.asarray(L.v_leak, float)
    if np.any(gain <= 0):
        raise ValueError(f"layer {k}: gain must be > 0 to be folded into the weights (Loihi passes u into v "
                         f"with gain 1); got values down to {gain.min()}")
    if np.any(L.v_reset != v_leak):
        raise ValueError(f"layer {k}: v_reset ({np.unique(L.v_reset)[:5]}) differs from v_leak "
                         f"({np.unique(v_leak)[:5]}): Loihi decays v to 0 and resets it to 0, so only "
                         "v_reset == v_leak maps exactly")
    if last and np.ptp(v_leak) != 0:
        raise ValueError(f"layer {k} (output): v_leak must be the same for every neuron (the readout compares "
                         "potentials across neurons; Loihi's potentials are relative to it)")
    theta = np.asarray(L.v_th, float) - v_leak
    if fires and np.any(theta <= 0):
        raise ValueError(f"layer {k}: the threshold must lie above v_leak (Loihi's vth is unsigned)")
    bias = np.asarray(L.bias, float)
    if np.any((bias != 0) & (np.asarray(L.decay_syn) != 0)):
        raise ValueError(f"layer {k}: a bias into the synaptic current with decay_syn > 0 has no Loihi "
                         "equivalent (Loihi's bias enters v); only neurons with decay_syn == 0 may have a bias")
    wg = L.weight * gain[None, :]
    mode = _sign_modes(wg, declared, k, allow_mixed)
    w_max = float(np.max(np.abs(wg))) if wg.size else 0.0
    # mantissa units per float unit; an all-zero layer gets the threshold's scale
    per_unit = 255.0 / w_max if w_max > 0 else (1024.0 / float(theta.max()) if fires else 1.0)
    mant = _mantissas(wg * per_unit, mode)
    du = np.clip(np.round(eq.LOIHI_DECAY_UNITY * (1.0 - np.asarray(L.decay_syn))) - eq.LOIHI_DS_OFFSET,
                 0, DECAY_MAX).astype(np.int64)
    dv = np.clip(np.round(eq.LOIHI_DECAY_UNITY * (1.0 - np.asarray(L.decay_mem))) - eq.LOIHI_DM_OFFSET,
                 0, DECAY_MAX).astype(np.int64)
    reasons = {}
    exps = [weight_exp] if weight_exp is not None else range(WEIGHT_EXP_RANGE[1], WEIGHT_EXP_RANGE[0] - 1, -1)
    for e in exps:
        scale = per_unit * 2.0 ** (e + eq.LOIHI_ACT_SHIFT)
        vth = np.round(scale * theta / 2 ** eq.LOIHI_VTH_SHIFT) if fires else np.full(theta.shape, VTH_MAX)
        if vth.max() > VTH_MAX:
            reasons[e] = f"threshold mantissa {int(vth.max())} needs more than 17 bits"
            continue
        fit = _fit_bias(np.round(scale * gain * bias))
        if fit is None:
            reasons[e] = "the bias does not fit a 13-bit mantissa with a 3-bit exponent"
            continue
        ub = _u_bound(mant, e, du)
        if ub >= STATE_LIMIT:
            reasons[e] = f"u could reach {ub:.0f} >= 2**23 (24-bit wrap-around)"
            continue
        if not fires:
            vb = _v_bound(ub, eq.loihi_bias(*fit), dv)
            if vb >= VTH_MAX << eq.LOIHI_VTH_SHIFT:
                reasons[e] = f"v could reach {vb:.0f}, the largest threshold, and the layer must never fire"
                continue
        break
    else:
        detail = "; ".join(f"weight_exp {e}: {r}" for e, r in list(reasons.items())[:4])
        raise ValueError(f"layer {k}: no weight exponent in {WEIGHT_EXP_RANGE} fits Loihi's formats ({detail})")
    bias_mant, bias_exp = fit
    layer = LoihiLayer(weight=mant, sign_mode=mode, weight_exp=e, du=du, dv=dv, vth_mant=vth.astype(np.int64),
                       bias_mant=bias_mant, bias_exp=bias_exp, scale=scale, v_leak=v_leak)
    err = np.abs(layer.effective_weight() - wg)
    info = {
        "weight_exp": int(e), "scale": float(scale),
        "sign_modes": {_SIGN_NAMES[m]: int(np.sum(mode == m)) for m in _SIGN_NAMES},
        "weight_lsb": float(1.0 / per_unit),
        "weight_max_abs_error": float(err.max()) if err.size else 0.0,
        "threshold_max_rel_error": (float(np.max(np.abs(layer.vth_mant * 64 / scale - theta) / theta))
                                    if fires else None),
        "fires": fires,
        "decay_syn_effective": sorted({float(x) for x in (eq.LOIHI_DECAY_UNITY - du - 1) / 4096.0})[:4],
        "decay_mem_effective": sorted({float(x) for x in (eq.LOIHI_DECAY_UNITY - dv) / 4096.0})[:4],
        "u_bound": _u_bound(mant, e, du),
    }
    return layer, info


def quantize(net, *, signs: Optional[Sequence[Optional[np.ndarray]]] = None,
             weight_exp: Optional[Sequence[Optional[int]]] = None, allow_mixed: bool = True) -> LoihiNet:
    """Quantise a :class:`lava_balanced.deploy.DeployNet` into a
    :class:`LoihiNet` (the mapping is in the module docstring).

    ``signs``: per layer, ``None`` (infer each presynaptic row's sign mode
    from its weights) or an (n_pre,) array of the presynaptic neurons'
    types, +1 excitatory, -1 inhibitory, 0 mixed; a row that breaks its
    declared type raises ``ValueError``. By default each layer's
    ``pre_sign`` (the Dale types a trained network records) is declared. ``weight_exp``: per layer, ``None`` (choose
    the largest that fits) or a fixed exponent (``ValueError`` if it does
    not fit). ``allow_mixed=False`` refuses rows of mixed sign instead of
    quantising them in MIXED mode. Raises ``ValueError`` for what Loihi
    cannot run (NaN, ``v_reset != v_leak``, gain <= 0, a bias into a
    decaying current, a bias or threshold that does not fit)."""
    n_layers = len(net.layers)
    if signs is None:  # a deploy net's recorded presynaptic types (Dale's law), else inferred
        signs = [getattr(L, "pre_sign", None) for L in net.layers]
    signs = list(signs)
    exps = list(weight_exp) if weight_exp is not None else [None] * n_layers
    if len(signs) != n_layers or len(exps) != n_layers:
        raise ValueError(f"signs and weight_exp need one entry per layer ({n_layers})")
    if not (np.isfinite(net.max_rate) and 0 < net.max_rate <= 1):
        raise ValueError(f"max_rate must lie in (0, 1], got {net.max_rate}")
    layers, info = [], []
    for k, L in enumerate(net.layers):
        q, i = _quantize_layer(L, k, k == n_layers - 1, signs[k], exps[k], allow_mixed)
        layers.append(q)
        info.append(i)
    meta = {"quantized_from": "lava_balanced.deploy.DeployNet", "layers": info,
            "source": json.loads(json.dumps(getattr(net, "metadata", {}) or {}, default=str))}
    return LoihiNet(layers, t_steps=net.t_steps, max_rate=net.max_rate, seed=net.seed, readout=net.readout,
                    dt=getattr(net, "dt", 1.0), metadata=meta)


# ---------------------------------------------------------------------------
def _scalar_or_vec(a: np.ndarray):
    return a[0] if a.size and np.all(a == a[0]) else a


def _str_ds(group, name: str, value: str) -> None:
    group.create_dataset(name, (1,), "S10", [value.encode("ascii")])


def write_netx(path, qnet: LoihiNet) -> None:
    """Write ``qnet`` in lava-dl netx's HDF5 layout plus lava-balanced's
    fields (module docstring)."""
    import h5py

    with h5py.File(Path(path), "w") as f:
        f.attrs.update({"format": "lava-balanced-loihi", "version": 1, "t_steps": qnet.t_steps,
                        "max_rate": qnet.max_rate, "seed": qnet.seed, "readout": qnet.readout, "dt": qnet.dt,
                        "n_in": qnet.n_in, "n_out": qnet.n_out, "encoding": ENCODING,
                        "metadata": json.dumps(qnet.metadata, default=str)})
        top = f.create_group("layer")
        for k, L in enumerate(qnet.layers):
            g = top.create_group(str(k))
            _str_ds(g, "type", "dense")
            g.create_dataset("shape", data=np.array([L.n_post], dtype=np.int64))
            g.create_dataset("weight", data=L.weight.T.astype(np.int16))
            bias = L.bias
            exact = bool(np.all(bias % 64 == 0))
            if np.any(bias != 0) and exact:
                g.create_dataset("bias", data=bias // 64)
            neuron = g.create_group("neuron")
            _str_ds(neuron, "type", "CUBA")
            neuron.create_dataset("iDecay", data=_scalar_or_vec(L.du + eq.LOIHI_DS_OFFSET))
            neuron.create_dataset("vDecay", data=_scalar_or_vec(L.dv))
            neuron.create_dataset("vThMant", data=_scalar_or_vec(L.vth_mant))
            neuron.create_dataset("refDelay", data=1)
            neuron.create_dataset("gradedSpike", data=False)
            neuron.create_dataset("bias_mant", data=L.bias_mant)
            neuron.create_dataset("bias_exp", data=L.bias_exp)
            g.create_dataset("sign_mode", data=L.sign_mode.astype(np.int8))
            g.create_dataset("v_leak", data=L.v_leak)
            g.attrs.update({"weight_exp": L.weight_exp, "scale": L.scale, "netx_bias_exact": exact,
                            "sign_modes": "1 MIXED (-256..254 even), 2 EXCITATORY (0..255), "
                                          "3 INHIBITORY (-255..0): Lava SignMode of each input row"})


def read_netx(path) -> LoihiNet:
    """Read a file written by :func:`write_netx` back into the identical
    :class:`LoihiNet`."""
    import h5py

    with h5py.File(Path(path), "r") as f:
        if f.attrs.get("format") != "lava-balanced-loihi":
            raise ValueError(f"{path}: not a lava-balanced Loihi file (no format attribute "
                             "'lava-balanced-loihi'); a plain netx file lacks weight_exp and sign modes")
        layers = []
        top = f["layer"]
        for k in range(len(top)):
            g = top[str(k)]
            if g["type"][0].decode() != "dense" or g["neuron/type"][0].decode() != "CUBA":
                raise ValueError(f"{path}: layer {k} is not a dense CUBA layer")
            n = int(np.prod(g["shape"][()]))
            nr = g["neuron"]
            layers.append(LoihiLayer(
                weight=g["weight"][()].T, sign_mode=g["sign_mode"][()], weight_exp=int(g.attrs["weight_exp"]),
                du=np.broadcast_to(nr["iDecay"][()] - eq.LOIHI_DS_OFFSET, (n,)),
                dv=np.broadcast_to(nr["vDecay"][()], (n,)), vth_mant=np.broadcast_to(nr["vThMant"][()], (n,)),
                bias_mant=nr["bias_mant"][()], bias_exp=nr["bias_exp"][()], scale=float(g.attrs["scale"]),
                v_leak=g["v_leak"][()]))
        a = f.attrs
        return LoihiNet(layers, t_steps=int(a["t_steps"]), max_rate=float(a["max_rate"]), seed=int(a["seed"]),
                        readout=str(a["readout"]), dt=float(a["dt"]), metadata=json.loads(a["metadata"]))
