"""Run an exported NIR graph on Spyx (JAX), a foreign back end, with the
encoding and readout of :func:`lava_balanced.deploy.run_deploy`.

Graphs with a non-firing layer (a ``CubaLI`` node: the output of a network
trained with ``neuron.output_spikes = false``) are refused by name: spyx
0.1.20's import has no ``CubaLI``.

Needs the ``[jax]`` extra (``pip install 'lava-balanced[jax]'``: spyx, jax,
dm-haiku); spyx and jax are imported only when a function here is called.

The network is the one ``spyx.nir.from_nir`` builds (an ``hk.DeepRNN`` of
``hk.Linear`` and ``spyx.nn.CuBaLIF`` cells, with spyx's own parameter
conversion: ``alpha = 1 - dt/tau_syn``, ``beta = 1 - dt/tau_mem``, weights
scaled by ``dt/tau_syn * w_in``). Nothing of it is re-implemented here except,
with ``reset="nir"``, the neuron cell (below).

What spyx 0.1.20's ``CuBaLIF`` computes, per step, from the state ``(V, I)``
and the input ``x`` (checked against its source, ``spyx/nn.py``, and by
``tests/test_spyx.py``)::

    s = V > threshold            # strict, like NIR and lava-balanced
    V = V - s * threshold
    I = alpha * I + x
    V = beta * V + I - s * threshold
    return s, (V, I)

and what the NIR graph (and Lava, and ``run_deploy``) means::

    I = alpha * I + x
    V = beta * V + (1 - beta) * v_leak + I     # r = tau_mem / dt
    s = V > threshold ; V = where(s, v_reset, V)

Three differences follow:

1. **A one-step delay per layer.** spyx thresholds the potential left by
   the *previous* step, so a layer's spikes leave one step late, and each
   layer adds one more step: the output layer of an ``L``-layer chain spikes
   ``L`` steps late, and its potential is ``L - 1`` steps late. The delay is
   pure (it changes when a spike is emitted, not whether), so
   :func:`spyx_predict` compensates it exactly: it appends ``L`` zero input
   steps to the ``t_steps`` input steps and reads the output spikes over
   steps ``L .. L + t_steps - 1`` and the output potential over steps
   ``L - 1 .. L + t_steps - 2``.
2. **The reset.** spyx subtracts the threshold twice (once before the decay,
   once after) instead of setting ``V`` to ``v_reset``: after a spike at
   potential ``V`` its next potential is ``beta (V - th) + I - th`` where NIR
   gives ``beta v_reset + I``. With ``reset="spyx"`` (stock spyx) this is
   what runs. ``reset="nir"`` is a **workaround of that spyx defect**: the
   same spyx-built network and parameters (``spyx.nir.from_nir``), with each
   ``spyx.nn.CuBaLIF`` cell replaced by :class:`NIRResetCuBaLIF` (a subclass
   that changes only the reset to ``V <- v_reset`` and keeps spyx's
   spike-from-the-previous-potential timing, so point 1 holds unchanged).
3. **What spyx ignores.** spyx drops ``r``, ``v_leak`` and (stock) ``v_reset``:
   it assumes ``r = tau_mem / dt`` and ``v_leak = 0`` (and reset by
   subtraction). lava-balanced's exporter writes ``r = tau_mem / dt``, and
   trained networks have ``v_leak = 0``; :func:`spyx_predict` warns when a
   graph has anything else, since spyx then computes another network.

The readout is :func:`lava_balanced.kernels.readout_predict` with mode
``"spikes"`` (the most output spikes over the window, ties broken by the
higher mean output potential). The potential is read from the states spyx
returns (``return_all_states=True``; the ``V`` half of the output cell's
``(V, I)`` state). spyx's state is the potential *before* the threshold
check, whereas ``run_deploy`` averages the potential *after* it; the
potential after the check is formed from spyx's state by the cell's own
reset rule: ``where(V > th, v_reset, V)`` for ``reset="nir"`` (exactly
``run_deploy``'s value) and ``V - th`` where ``V > th`` for ``reset="spyx"``
(spyx's first subtraction).

Also: ``spyx.nir.from_nir`` transposes the Linear/Affine weights of the graph
it is given *in place*; :func:`spyx_network` gives it a deep copy, so the
caller's graph is left alone.
"""

from __future__ import annotations

import copy
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Tuple, Union

import numpy as np

from .. import kernels as K

__all__ = ["spyx_predict", "spyx_network", "graph_encoding", "RESET_MODES", "require_spyx"]

RESET_MODES = ("spyx", "nir")

_MISSING = ("spyx_predict needs spyx, jax and dm-haiku, which lava-balanced does not install by default: "
            "pip install 'lava-balanced[jax]'  (or: pip install -e '.[jax]' in a checkout)")


def require_spyx():
    """Import and return ``(spyx.nir, spyx.nn, jax, jax.numpy, haiku)``, or
    raise ``ImportError`` naming the ``[jax]`` extra."""
    try:
        import haiku as hk
        import jax
        import jax.numpy as jnp
        import spyx.nir as snir
        import spyx.nn as snn
    except ImportError as exc:
        raise ImportError(f"{_MISSING} ({type(exc).__name__}: {exc})") from exc
    return snir, snn, jax, jnp, hk


_CELL_CLASS = None


def _nir_reset_cell_class():
    """Build :class:`NIRResetCuBaLIF` on first use (it subclasses spyx's cell,
    so it cannot exist before spyx is imported)."""
    global _CELL_CLASS
    if _CELL_CLASS is not None:
        return _CELL_CLASS
    _, snn, _, jnp, hk = require_spyx()

    class NIRResetCuBaLIF(snn.CuBaLIF):
        """spyx's ``CuBaLIF`` with NIR's reset (a workaround of spyx's
        double subtraction): ``s = V > th; V = where(s, v_reset, V);
        I = alpha I + x; V = beta V + I``. Same parameters (``alpha``,
        ``beta``), same state layout ``(V, I)``, same module name (so
        ``spyx.nir.from_nir``'s parameter dictionary fits), same timing
        (spikes from the previous step's potential)."""

        def __init__(self, hidden_shape, alpha=None, beta=None, threshold=1.0, v_reset=0.0,
                     name="CuBaLIF", **kwargs):
            super().__init__(hidden_shape, alpha=alpha, beta=beta, threshold=threshold, name=name,
                             **kwargs)
            self.v_reset = v_reset

        def __call__(self, x, VI):
            V, I = jnp.split(VI, 2, -1)
            # the same parameter lookup as spyx's CuBaLIF (per-neuron arrays
            # from from_nir), including its clipping to [0, 1]
            alpha = jnp.clip(hk.get_parameter("alpha", self.hidden_shape,
                                              init=hk.initializers.TruncatedNormal(0.25, 0.5)), 0, 1)
            beta = jnp.clip(hk.get_parameter("beta", self.hidden_shape,
                                             init=hk.initializers.TruncatedNormal(0.25, 0.5)), 0, 1)
            spikes = self.spike(V - self.threshold)
            V = jnp.where(spikes > 0, jnp.asarray(self.v_reset, V.dtype), V)
            I = alpha * I + x
            V = beta * V + I
            return spikes, jnp.concatenate([V, I], axis=-1)

    _CELL_CLASS = NIRResetCuBaLIF
    return NIRResetCuBaLIF


def __getattr__(name):  # lazy: ``from lava_balanced.exporters.spyx import NIRResetCuBaLIF``
    if name == "NIRResetCuBaLIF":
        return _nir_reset_cell_class()
    raise AttributeError(name)


@contextmanager
def _cell_swap(reset: str):
    """While active, spyx's NIR importer builds :class:`NIRResetCuBaLIF`
    instead of ``spyx.nn.CuBaLIF`` for a CubaLIF node (``reset="nir"``);
    does nothing for ``reset="spyx"``. spyx builds its modules each time the
    network function is traced, so this must be active around ``init`` and
    around the first (tracing) call of the jitted ``apply``. It patches a
    module attribute of ``spyx.nir``: not thread-safe."""
    if reset == "spyx":
        yield
        return
    snir, _, _, _, _ = require_spyx()
    import nir

    cell = _nir_reset_cell_class()
    original = snir._nir_node_to_spyx_node

    def convert(node_pair):
        node = node_pair[0]
        if isinstance(node, nir.CubaLIF):
            v_reset = np.zeros(node.tau_syn.shape) if node.v_reset is None else np.asarray(node.v_reset)
            return cell(node.tau_syn.shape, threshold=node.v_threshold, v_reset=v_reset)
        return original(node_pair)

    snir._nir_node_to_spyx_node = convert
    try:
        yield
    finally:
        snir._nir_node_to_spyx_node = original


def _layer_info(graph) -> Tuple[int, int, list]:
    """``(n_in, n_layers, [(name, CubaLIF node), ...])`` of a feed-forward NIR
    chain; warns about a ``v_leak`` spyx ignores."""
    import nir

    lifs = [(k, n) for k, n in graph.nodes.items() if isinstance(n, (nir.CubaLIF, nir.LIF))]
    others = [k for k, n in graph.nodes.items()
              if not isinstance(n, (nir.Input, nir.Output, nir.Linear, nir.Affine, nir.CubaLIF))]
    if others or not lifs or any(not isinstance(n, nir.CubaLIF) for _, n in lifs):
        raise ValueError("spyx_predict runs feed-forward chains of Linear/Affine and CubaLIF nodes only "
                         f"(spyx 0.1.20's Linear -> LIF import fails); got {sorted(graph.nodes)}")
    for k, n in lifs:
        if n.v_leak is not None and np.any(np.asarray(n.v_leak) != 0):
            warnings.warn(f"node {k!r}: spyx ignores v_leak (assumes 0); spyx computes another network",
                          stacklevel=3)
    inputs = [n for n in graph.nodes.values() if isinstance(n, nir.Input)]
    n_in = int(np.prod(np.asarray(list(inputs[0].input_type.values())[0])))
    return n_in, len(lifs), lifs


def spyx_network(graph_or_path, *, dt: float = 1.0, reset: str = "spyx", batch_size: int = 1,
                 n_steps: int = 1):
    """``(apply, params, info)``: the network ``spyx.nir.from_nir`` builds
    from a NIR graph (a deep copy of it: spyx transposes weights in place) or
    a path, with its parameters, and a jitted ``apply(params, x)`` taking
    batch-major input ``(batch, n_steps, n_in)`` and returning ``(spikes,
    states)``, batch-major too (``return_all_states=True``; spyx's
    ``time_major=True`` is unusable: its initial state takes the batch size
    from ``x.shape[0]``). ``reset="nir"`` swaps the cell
    (module docstring). ``info`` holds ``n_in``, ``n_layers`` and the output
    layer's ``v_threshold``, ``v_reset``, ``n_out``."""
    if reset not in RESET_MODES:
        raise ValueError(f"reset must be one of {RESET_MODES}, got {reset!r}")
    snir, _, jax, jnp, _ = require_spyx()
    import nir

    if isinstance(graph_or_path, (str, Path)):
        from .nir import read_nir
        graph = read_nir(graph_or_path)
    elif isinstance(graph_or_path, nir.NIRGraph):
        graph = copy.deepcopy(graph_or_path)
    else:
        raise TypeError(f"expected a nir.NIRGraph or a path, got {type(graph_or_path).__name__}")
    n_in, n_layers, lifs = _layer_info(graph)
    for k, n in lifs:
        r = np.asarray(n.r, dtype=np.float64)
        if not np.allclose(r, np.asarray(n.tau_mem, dtype=np.float64) / dt, rtol=1e-6):
            warnings.warn(f"node {k!r}: spyx ignores r (assumes r = tau_mem / dt); spyx computes another "
                          "network", stacklevel=2)
    out = lifs[-1][1]
    n_out = int(np.asarray(out.v_threshold).size)
    info = {"n_in": n_in, "n_layers": n_layers, "n_out": n_out,
            "v_threshold": np.asarray(out.v_threshold, dtype=np.float64).reshape(-1),
            "v_reset": (np.zeros(n_out) if out.v_reset is None
                        else np.asarray(out.v_reset, dtype=np.float64).reshape(-1))}
    # batch-major: spyx's network takes its initial state's batch size from
    # x.shape[0], so time_major=True gets the wrong state shape
    sample = jnp.zeros((batch_size, n_steps, n_in), dtype=jnp.float32)
    with _cell_swap(reset):
        net, params = snir.from_nir(graph, sample, dt, time_major=False, return_all_states=True)
    jitted = jax.jit(net.apply)

    def apply(p, x):
        with _cell_swap(reset):  # modules are built while tracing
            return jitted(p, x)

    return apply, params, info


def _input_spikes(images: np.ndarray, idx: np.ndarray, seed: int, t_steps: int, max_rate: float,
                  n_in: int) -> np.ndarray:
    """``(t_steps, len(idx), n_in)`` float32 input spikes, the streams
    :func:`lava_balanced.deploy.run_deploy` draws for these sample indices."""
    x = images[idx].astype(np.float32) / np.float32(255.0)
    uni = K.encoder_uniforms(seed, 0, idx, t_steps, n_in)
    return np.stack([K.encode(uni[t], x, max_rate) for t in range(t_steps)]).astype(np.float32)


def spyx_predict(graph_or_path: Union[str, Path, Any], images: np.ndarray, *, dt: float = 1.0,
                 t_steps: int = 16, max_rate: float = 1.0, seed: int = 0, batch_size: int = 1000,
                 reset: str = "spyx", return_traces: bool = False):
    """Classify ``images`` (uint8 ``(N, n_in)``) with the network Spyx builds
    from an exported NIR graph (or a path to an ``.nir`` file).

    The input spikes are exactly those of
    :func:`lava_balanced.deploy.run_deploy` (Bernoulli spikes from the
    per-sample streams ``encoder_uniforms(seed, 0, index, t_steps, n_in)``,
    intensity ``images / 255``, ``max_rate``), followed by ``n_layers`` zero
    steps that let the delayed output arrive; spikes and potential are read
    over the shifted windows of the module docstring, and the class is
    :func:`lava_balanced.kernels.readout_predict` (``"spikes"``). Pass the
    ``t_steps``, ``max_rate`` and ``seed`` the network was exported with (the
    graph's metadata). ``reset``: ``"spyx"`` (stock spyx) or ``"nir"`` (the
    corrected cell, module docstring).

    Returns the predictions ``(N,)``, and with ``return_traces`` also
    ``(counts, v_mean)`` of the output layer, each ``(N, n_out)``."""
    require_spyx()
    if reset not in RESET_MODES:
        raise ValueError(f"reset must be one of {RESET_MODES}, got {reset!r}")
    if int(t_steps) != t_steps or t_steps < 1:
        raise ValueError(f"t_steps must be a positive integer, got {t_steps}")
    if not (0 < max_rate <= 1):
        raise ValueError(f"max_rate must lie in (0, 1], got {max_rate}")
    images = np.asarray(images)
    n = len(images)
    batch_size = max(1, min(int(batch_size), n)) if n else 1
    apply, params, info = spyx_network(graph_or_path, dt=dt, reset=reset, batch_size=batch_size)
    n_in, n_layers, n_out = info["n_in"], info["n_layers"], info["n_out"]
    if images.ndim != 2 or images.shape[1] != n_in:
        raise ValueError(f"images must have shape (N, {n_in}), got {images.shape}")
    th, v_reset = info["v_threshold"], info["v_reset"]
    t_total = t_steps + n_layers
    preds = np.empty(n, dtype=np.int64)
    counts_all = np.empty((n, n_out))
    vmean_all = np.empty((n, n_out))
    for start in range(0, n, batch_size):
        idx = np.arange(start, min(start + batch_size, n))
        x = np.zeros((batch_size, t_total, n_in), dtype=np.float32)  # fixed shape: one compilation
        x[:len(idx), :t_steps] = _input_spikes(images, idx, seed, t_steps, max_rate, n_in).transpose(1, 0, 2)
        spikes, states = apply(params, x)
        spikes = np.asarray(spikes, dtype=np.float64)[:len(idx)]              # (b, t_total, n_out)
        v = np.asarray(states[-1], dtype=np.float64)[:len(idx), :, :n_out]    # V half of (V, I)
        counts = spikes[:, n_layers:n_layers + t_steps].sum(axis=1)
        v_win = v[:, n_layers - 1:n_layers - 1 + t_steps]
        fired = v_win > th
        v_after = np.where(fired, v_reset, v_win) if reset == "nir" else v_win - fired * th
        vmean = v_after.mean(axis=1)
        preds[idx] = K.readout_predict(counts, vmean, "spikes")
        counts_all[idx], vmean_all[idx] = counts, vmean
    if return_traces:
        return preds, counts_all, vmean_all
    return preds


def graph_encoding(graph) -> Dict[str, Any]:
    """``t_steps``, ``max_rate``, ``seed`` and ``dt`` recorded in an exported
    graph's metadata (defaults 16, 1.0, 0, 1.0), as keyword arguments for
    :func:`spyx_predict`."""
    meta = getattr(graph, "metadata", None) or {}

    def get(key, default, cast):
        return cast(np.asarray(meta[key]).item()) if key in meta else default

    return {"t_steps": get("t_steps", 16, int), "max_rate": get("max_rate", 1.0, float),
            "seed": get("seed", 0, int), "dt": get("dt", 1.0, float)}
