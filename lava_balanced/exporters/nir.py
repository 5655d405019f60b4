"""NIR export and import of deployable networks.

Export: :func:`to_nir` turns a :class:`lava_balanced.deploy.DeployNet` (the
deployable form of a trained network, :func:`lava_balanced.deploy.from_trained`)
into an ``nir.NIRGraph``::

    input (Input) -> fc0 (Linear | Affine) -> lif0 (CubaLIF) -> fc1 -> lif1 -> output (Output)

where a layer that never fires (``v_th = inf``: the output of a network
trained with ``neuron.output_spikes = false``) is a ``CubaLI`` node (the same
dynamics without threshold and reset).

Import: :func:`from_nir` turns a graph of NIR primitives (any feed-forward
chain of Input, Linear, Affine, Scale, LIF, CubaLIF, CubaLI, Output, written by this
package or by another framework) into a DeployNet, which runs on Lava
(:func:`lava_balanced.deploy.evaluate_deploy`,
:class:`lava_balanced.deploy_network.DeployNetwork`) or in numpy.

The time convention (NIR stores no ``dt``)
------------------------------------------
Parameters are continuous-time; a network runs at a step ``dt`` (ms, the
exporter records it in the graph's metadata; the importer takes it as an
argument). Each step, inputs are held over the step (a spike is a 1 for one
step) and the ODEs are advanced by one forward-Euler step, the current before
the potential::

    CubaLIF:  I <- I + dt/tau_syn * (-I + w_in * (W s + b))
              V <- V + dt/tau_mem * (v_leak - V + r * I)
    LIF:      V <- V + dt/tau     * (v_leak - V + r * (W s + b))
    then      spike where V > v_threshold, and V <- v_reset

The exporter picks ``tau_syn = dt / (1 - decay_syn)`` and ``tau_mem = dt /
(1 - decay_mem)`` so that these Euler steps equal the trained network's exact
exponential decays, sets ``r = tau_mem / dt`` and ``w_in = 1`` and scales the
weights by ``1 / (dt/tau_syn)``: under this convention, and under the
``r = tau_mem/dt`` convention snnTorch and Spyx assume, a spike adds
``(1 - decay_mem) * w`` to the current, exactly as in the trained network.

Dale's law
----------
Every ``Linear``/``Affine`` node of an exported graph carries the type of its
presynaptic neurons in its metadata (``presynaptic_sign``: +1 excitatory, -1
inhibitory). The exporter refuses (:class:`lava_balanced.model.DaleViolation`)
a network whose weights break those signs; the importer re-checks them when
present. Importers that ignore metadata lose nothing: the signs are already in
the weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import nir
import numpy as np

from ..config import Config
from ..deploy import STP_MODES, DeployLayer, DeployNet, from_trained
from ..model import Weights

__all__ = ["to_nir", "from_nir", "export_nir", "read_nir", "describe", "UnsupportedNIRGraph", "SUPPORTED_NODES",
           "FORMAT"]

FORMAT = "lava-balanced/deploy-v1"
SUPPORTED_NODES = (nir.Input, nir.Output, nir.Linear, nir.Affine, nir.Scale, nir.LIF, nir.CubaLIF, nir.CubaLI)


class UnsupportedNIRGraph(ValueError):
    """The NIR graph uses a primitive or a topology the importer cannot run."""


# ---------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------
def to_nir(net: DeployNet) -> nir.NIRGraph:
    """The NIR graph of a deploy network (module docstring for the
    conventions). Raises :class:`lava_balanced.model.DaleViolation` when a
    layer's weights break its presynaptic signs."""
    dt = float(net.dt)
    nodes: Dict[str, Any] = {"input": nir.Input(input_type={"input": np.array([net.n_in])})}
    edges = []
    prev = "input"
    for k, L in enumerate(net.layers):
        L.check_dale()
        if np.any(L.decay_syn >= 1) or np.any(L.decay_mem >= 1):
            raise ValueError(f"layer {k}: a decay of 1 (an infinite time constant) has no NIR form")
        k_s = 1.0 - L.decay_syn       # dt / tau_syn
        k_m = 1.0 - L.decay_mem       # dt / tau_mem
        scale = L.gain / k_s          # per postsynaptic neuron
        weight = (L.weight * scale[None, :]).T   # NIR: (n_post, n_pre)
        meta: Dict[str, Any] = {}
        if L.pre_sign is not None:
            meta["presynaptic_sign"] = L.pre_sign.astype(np.int8)
        if np.any(L.bias != 0):
            conn = nir.Affine(weight=weight, bias=L.bias * scale, metadata=meta)
        else:
            conn = nir.Linear(weight=weight, metadata=meta)
        if L.fires:
            lif = nir.CubaLIF(tau_syn=dt / k_s, tau_mem=dt / k_m, r=1.0 / k_m, v_leak=L.v_leak.copy(),
                              v_threshold=L.v_th.copy(), v_reset=L.v_reset.copy(), w_in=np.ones(L.n_post))
        else:
            lif = nir.CubaLI(tau_syn=dt / k_s, tau_mem=dt / k_m, r=1.0 / k_m, v_leak=L.v_leak.copy(),
                             w_in=np.ones(L.n_post))
        nodes[f"fc{k}"], nodes[f"lif{k}"] = conn, lif
        edges += [(prev, f"fc{k}"), (f"fc{k}", f"lif{k}")]
        prev = f"lif{k}"
    nodes["output"] = nir.Output(output_type={"output": np.array([net.n_out])})
    edges.append((prev, "output"))
    metadata = {
        "format": FORMAT,
        "dt": dt,
        "time_unit": "ms",
        "discretisation": "forward Euler at dt, inputs held over the step, current before potential; "
                          "r = tau_mem / dt, w_in = 1",
        "encoding": "bernoulli",
        "t_steps": int(net.t_steps),
        "max_rate": float(net.max_rate),
        "seed": int(net.seed),
        "readout": net.readout,
        "readout_rule": ("most output spikes over t_steps, ties broken by the higher mean potential"
                         if net.readout == "spikes" else "highest mean output potential over t_steps"),
        "state_reset": "all state at rest (I = 0, V = v_leak) at each sample's first step",
    }
    for key, value in net.metadata.items():
        if value is not None:
            metadata[f"mapping.{key}"] = value
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)


def export_nir(weights: Weights, cfg: Config, path: Union[str, Path, None] = None, *,
               stp: str = "calibrated", calibration_images: Optional[np.ndarray] = None,
               stp_rate: float = 0.25, inh_potential: Optional[float] = None) -> nir.NIRGraph:
    """Export a trained network: :func:`lava_balanced.deploy.from_trained`
    (checks Dale's law, maps STP and the inhibitory conductance), then
    :func:`to_nir`; writes the graph to ``path`` (HDF5, ``nir.write``) when
    given. Returns the graph."""
    if stp not in STP_MODES:
        raise ValueError(f"stp must be one of {STP_MODES}, got {stp!r}")
    net = from_trained(weights, cfg, stp=stp, calibration_images=calibration_images, stp_rate=stp_rate,
                       inh_potential=inh_potential)
    graph = to_nir(net)
    if path is not None:
        write_nir(path, graph)
    return graph


def write_nir(path: Union[str, Path], graph: nir.NIRGraph) -> None:
    """``nir.write`` to a temporary file, then an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        nir.write(str(tmp), graph)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()


def read_nir(path: Union[str, Path]) -> nir.NIRGraph:
    """``nir.read`` with a clear error for a missing or corrupt file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no NIR file at {path}")
    try:
        return nir.read(str(path))
    except Exception as exc:
        raise ValueError(f"{path} is not a readable NIR file ({type(exc).__name__}: {exc})") from exc


# ---------------------------------------------------------------------------
# import
# ---------------------------------------------------------------------------
def _arr(node, name: str, n: int, node_name: str) -> np.ndarray:
    value = getattr(node, name)
    a = np.asarray(value, dtype=np.float64)
    try:
        a = np.broadcast_to(a.reshape(-1) if a.size == n else a, (n,)).copy()
    except ValueError as exc:
        raise UnsupportedNIRGraph(f"node {node_name!r}: {name} has shape {a.shape}, expected ({n},)") from exc
    if not np.all(np.isfinite(a)):
        raise ValueError(f"node {node_name!r}: {name} contains NaN or infinite values")
    return a


def _size(node_type: Dict[str, np.ndarray], node_name: str) -> int:
    shapes = list(node_type.values())
    if len(shapes) != 1:
        raise UnsupportedNIRGraph(f"node {node_name!r}: expected one port, got {list(node_type)}")
    shape = np.asarray(shapes[0]).reshape(-1)
    if len(shape) != 1:
        raise UnsupportedNIRGraph(f"node {node_name!r}: only flat (1-D) inputs are supported, got shape "
                                  f"{tuple(int(s) for s in shape)}; add a Flatten upstream of the export")
    return int(shape[0])


def describe(graph: nir.NIRGraph) -> str:
    """The node types of a feed-forward chain in order, e.g. ``"Input ->
    Linear -> CubaLIF -> Linear -> CubaLI -> Output"``."""
    return " -> ".join(type(graph.nodes[name]).__name__ for name in _chain(graph))


def _chain(graph: nir.NIRGraph) -> List[str]:
    for name, node in graph.nodes.items():
        if not isinstance(node, SUPPORTED_NODES):
            raise UnsupportedNIRGraph(
                f"node {name!r} is a {type(node).__name__}; lava-balanced imports "
                f"{', '.join(t.__name__ for t in SUPPORTED_NODES)}")
    inputs = [n for n, v in graph.nodes.items() if isinstance(v, nir.Input)]
    outputs = [n for n, v in graph.nodes.items() if isinstance(v, nir.Output)]
    if len(inputs) != 1 or len(outputs) != 1:
        raise UnsupportedNIRGraph(f"expected one Input and one Output node, got {inputs} and {outputs}")
    succ: Dict[str, List[str]] = {}
    pred: Dict[str, List[str]] = {}
    for src, dst in graph.edges:
        for end in (src, dst):
            if end not in graph.nodes:
                raise UnsupportedNIRGraph(f"edge ({src!r}, {dst!r}) names an unknown node {end!r}")
        succ.setdefault(src, []).append(dst)
        pred.setdefault(dst, []).append(src)
    order = [inputs[0]]
    while order[-1] != outputs[0]:
        nxt = succ.get(order[-1], [])
        if len(nxt) != 1 or len(pred.get(nxt[0], [])) != 1:
            raise UnsupportedNIRGraph(f"only feed-forward chains are supported: node {order[-1]!r} has "
                                      f"{len(nxt)} successor(s)" + (f", {nxt[0]!r} has "
                                      f"{len(pred.get(nxt[0], []))} predecessor(s)" if len(nxt) == 1 else ""))
        if nxt[0] in order:
            raise UnsupportedNIRGraph(f"the graph has a cycle through {nxt[0]!r}")
        order.append(nxt[0])
    if len(order) != len(graph.nodes):
        stray = sorted(set(graph.nodes) - set(order))
        raise UnsupportedNIRGraph(f"nodes {stray} are not on the chain from {inputs[0]!r} to {outputs[0]!r}")
    return order


def _rate(dt: float, tau: np.ndarray, what: str, node_name: str) -> np.ndarray:
    if np.any(tau <= 0):
        raise ValueError(f"node {node_name!r}: {what} must be > 0")
    k = dt / tau
    if np.any(k > 1):
        raise ValueError(f"node {node_name!r}: dt = {dt} exceeds {what} (min {tau.min()}); forward Euler "
                         "is unstable there: import with a smaller dt")
    return k


def from_nir(graph: Union[nir.NIRGraph, str, Path], dt: float = 1.0, *, t_steps: Optional[int] = None,
             max_rate: Optional[float] = None, seed: Optional[int] = None,
             readout: Optional[str] = None) -> DeployNet:
    """A deploy network from an NIR graph (or a path to an ``.nir`` file),
    discretised at ``dt`` by the convention of the module docstring.

    The encoding (``t_steps``, ``max_rate``, ``seed``, ``readout``) is taken
    from the arguments, else from the graph's metadata when an exporter
    recorded it, else the defaults (16, 1.0, 0, ``"spikes"``). Raises
    :class:`UnsupportedNIRGraph` naming the node for anything but a
    feed-forward chain of Input, Linear, Affine, Scale, LIF, CubaLIF, CubaLI
    (a non-firing layer: ``v_th = inf``), Output, and :class:`lava_balanced.model.DaleViolation` when a connection's
    recorded presynaptic signs are broken."""
    if not isinstance(graph, nir.NIRGraph):
        graph = read_nir(graph)
    if not (dt > 0 and np.isfinite(dt)):
        raise ValueError(f"dt must be a positive number, got {dt}")
    order = _chain(graph)
    n_in = _size(graph.nodes[order[0]].input_type, order[0])
    width = n_in
    w = np.eye(n_in)         # pending (n_now, n_in) transform and bias since the last neuron
    b = np.zeros(n_in)
    sign: Optional[np.ndarray] = None
    pending = False
    layers: List[DeployLayer] = []
    for name in order[1:]:
        node = graph.nodes[name]
        if isinstance(node, (nir.Linear, nir.Affine)):
            weight = np.asarray(node.weight, dtype=np.float64)
            if weight.ndim != 2 or weight.shape[1] != w.shape[0]:
                raise UnsupportedNIRGraph(f"node {name!r}: weight shape {weight.shape} does not take "
                                          f"{w.shape[0]} inputs")
            if not np.all(np.isfinite(weight)):
                raise ValueError(f"node {name!r}: weight contains NaN or infinite values")
            bias = np.asarray(node.bias, dtype=np.float64).reshape(-1) if isinstance(node, nir.Affine) \
                else np.zeros(weight.shape[0])
            if bias.shape != (weight.shape[0],):
                raise UnsupportedNIRGraph(f"node {name!r}: bias shape {bias.shape}, expected ({weight.shape[0]},)")
            node_sign = (node.metadata or {}).get("presynaptic_sign")
            if node_sign is not None and not pending:
                sign = np.asarray(node_sign, dtype=np.float64).reshape(-1)
            w, b = weight @ w, weight @ b + bias
            pending = True
        elif isinstance(node, nir.Scale):
            s = _arr(node, "scale", w.shape[0], name)
            w, b = s[:, None] * w, s * b
            pending = True
        elif isinstance(node, (nir.LIF, nir.CubaLIF, nir.CubaLI)):
            n = w.shape[0]
            get = lambda attr: _arr(node, attr, n, name)  # noqa: E731
            fires = not isinstance(node, nir.CubaLI)
            v_reset = get("v_reset") if (fires and node.v_reset is not None) else np.zeros(n)
            if isinstance(node, (nir.CubaLIF, nir.CubaLI)):
                k_s = _rate(dt, get("tau_syn"), "tau_syn", name)
                k_m = _rate(dt, get("tau_mem"), "tau_mem", name)
                w_in = get("w_in")
                weight_eff, bias_eff = (w * (k_s * w_in)[:, None]).T, k_s * w_in * b
                decay_syn = 1.0 - k_s
            else:
                k_m = _rate(dt, get("tau"), "tau", name)
                weight_eff, bias_eff, decay_syn = w.T, b.copy(), 0.0
            pre_sign = sign if (sign is not None and sign.shape == (weight_eff.shape[0],)) else None
            layers.append(DeployLayer(weight=weight_eff, bias=bias_eff, decay_syn=decay_syn,
                                      decay_mem=1.0 - k_m, gain=get("r") * k_m, v_leak=get("v_leak"),
                                      v_th=get("v_threshold") if fires else np.inf, v_reset=v_reset,
                                      pre_sign=pre_sign))
            width = n
            w, b, sign, pending = np.eye(n), np.zeros(n), None, False
        elif isinstance(node, nir.Output):
            if pending:
                raise UnsupportedNIRGraph(f"the output {name!r} follows a Linear/Affine/Scale node: "
                                          "lava-balanced classifies from the last layer's spikes or potentials "
                                          "and needs a LIF, CubaLIF or CubaLI layer last")
            n_out = _size(node.output_type, name)
            if n_out != width:
                raise UnsupportedNIRGraph(f"output {name!r} declares {n_out} units but the last layer has {width}")
        else:  # a second Input cannot occur (_chain); keep the error explicit
            raise UnsupportedNIRGraph(f"node {name!r} ({type(node).__name__}) cannot appear here")
    if not layers:
        raise UnsupportedNIRGraph("the graph has no LIF, CubaLIF or CubaLI layer")
    meta = graph.metadata or {}

    def pick(value, key, default, cast):
        if value is not None:
            return cast(value)
        if key in meta:
            return cast(np.asarray(meta[key]).item() if not isinstance(meta[key], str) else meta[key])
        return default

    return DeployNet(layers, dt=float(dt), t_steps=pick(t_steps, "t_steps", 16, int),
                     max_rate=pick(max_rate, "max_rate", 1.0, float), seed=pick(seed, "seed", 0, int),
                     readout=pick(readout, "readout", "spikes", str),
                     metadata={"imported_from": "nir", "format": str(meta.get("format", "unknown"))})
