"""The trained state of a Balanced SNN: weights and neuron types, with the
checks that keep them valid, and atomic save/load."""

from __future__ import annotations

import io
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Union

import numpy as np

from .config import Config
from .equations import neuron_sign_mask

__all__ = ["Weights", "DaleViolation", "check_dale", "init_weights", "save_model", "load_model",
           "atomic_write_bytes"]


class DaleViolation(ValueError):
    """A weight has the wrong sign for its presynaptic neuron's type."""


def check_dale(weight: np.ndarray, pre_sign: np.ndarray, what: str = "",
               pre_name: str = "presynaptic neuron") -> None:
    """Dale's law: every weight in row ``j`` of ``weight`` (n_pre, n_post)
    carries the sign ``pre_sign[j]`` of its presynaptic neuron (+1
    excitatory, -1 inhibitory; a zero weight fits both). Raises
    :class:`DaleViolation` counting the offenders and naming the first
    (``what`` prefixes the message, ``pre_name`` names the row's neuron)."""
    bad = weight * pre_sign[:, None] < 0
    if np.any(bad):
        j = int(np.argwhere(bad)[0][0])
        kind = "excitatory" if pre_sign[j] > 0 else "inhibitory"
        raise DaleViolation(f"{what}{int(bad.sum())} weight(s) of the wrong sign for their presynaptic "
                            f"neuron break Dale's law (first: {pre_name} {j}, {kind})")


@dataclass
class Weights:
    """``w_in`` (784, H) input -> hidden, all >= 0 (the input layer is
    excitatory); ``w_out`` (H, n_out) hidden -> output, row ``j`` >= 0 for an
    excitatory hidden neuron (``hidden_sign[j] = +1``) and <= 0 for an
    inhibitory one (-1)."""

    w_in: np.ndarray
    w_out: np.ndarray
    hidden_sign: np.ndarray

    def __post_init__(self):
        self.w_in = np.asarray(self.w_in, dtype=np.float64)
        self.w_out = np.asarray(self.w_out, dtype=np.float64)
        self.hidden_sign = np.asarray(self.hidden_sign, dtype=np.float64)
        self.check()

    @property
    def n_hidden(self) -> int:
        return self.w_in.shape[1]

    @property
    def n_output(self) -> int:
        return self.w_out.shape[1]

    @property
    def input_sign(self) -> np.ndarray:
        return np.ones(self.w_in.shape[0])

    def check(self) -> "Weights":
        """Shapes, finiteness and Dale's law; raises naming the problem."""
        if self.w_in.ndim != 2 or self.w_out.ndim != 2:
            raise ValueError(f"weights must be 2-D, got w_in {self.w_in.shape}, w_out {self.w_out.shape}")
        if self.w_in.shape[1] != self.w_out.shape[0]:
            raise ValueError(f"w_in {self.w_in.shape} and w_out {self.w_out.shape} disagree on the hidden size")
        if self.hidden_sign.shape != (self.w_in.shape[1],):
            raise ValueError(f"hidden_sign must have shape ({self.w_in.shape[1]},), got {self.hidden_sign.shape}")
        if not np.all(np.isin(self.hidden_sign, (-1.0, 1.0))):
            raise ValueError("hidden_sign must hold only +1 (excitatory) and -1 (inhibitory)")
        for name in ("w_in", "w_out"):
            if not np.all(np.isfinite(getattr(self, name))):
                raise ValueError(f"{name} contains NaN or infinite values")
        if np.any(self.w_in < 0):
            n = int(np.sum(self.w_in < 0))
            raise DaleViolation(f"w_in has {n} negative weight(s); input synapses are excitatory")
        check_dale(self.w_out, self.hidden_sign, "w_out has ", "hidden neuron")
        return self

    def copy(self) -> "Weights":
        return Weights(self.w_in.copy(), self.w_out.copy(), self.hidden_sign.copy())


def init_weights(cfg: Config, n_input: int = 784, seed: Optional[int] = None) -> Weights:
    """Uniform random initial weights with the E-I signs (Algorithm 1, step 1)."""
    t, l = cfg.training, cfg.learning
    rng = np.random.default_rng([cfg.training.seed if seed is None else seed, 0x1417])
    sign = neuron_sign_mask(t.n_hidden, t.p_inh, rng)
    # strictly non-zero magnitudes: eq. 6 keeps a weight's sign only if it has one
    w_in = rng.uniform(0.0, l.init_in, (n_input, t.n_hidden)) + 1e-6
    w_out = (rng.uniform(0.0, l.init_out, (t.n_hidden, t.n_output)) + 1e-6) * sign[:, None]
    return Weights(w_in, w_out, sign)


# ---------------------------------------------------------------------------
def atomic_write_bytes(path: Union[str, Path], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same
    folder, flushed and fsynced, then renamed over the target."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


FORMAT_VERSION = 1


def save_model(path: Union[str, Path], weights: Weights, cfg: Config,
               meta: Optional[Dict[str, Any]] = None) -> None:
    """Save weights, the config used (as TOML text) and metadata to one
    ``.npz`` file, atomically."""
    weights.check()
    buf = io.BytesIO()
    np.savez(buf, w_in=weights.w_in, w_out=weights.w_out, hidden_sign=weights.hidden_sign,
             config=np.array(cfg.dumps()),
             meta=np.array(json.dumps({"format_version": FORMAT_VERSION, **(meta or {})})))
    atomic_write_bytes(path, buf.getvalue())


def load_model(path: Union[str, Path]):
    """Load ``(weights, config, meta)`` saved by :func:`save_model`; raises
    ``ValueError`` naming the problem on a corrupt or foreign file."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = {"w_in", "w_out", "hidden_sign", "config", "meta"} - set(f.files)
            if missing:
                raise ValueError(f"{path}: not a lava-balanced model (missing {sorted(missing)})")
            weights = Weights(f["w_in"], f["w_out"], f["hidden_sign"])
            cfg = Config.from_dict(_toml_loads(str(f["config"])))
            meta = json.loads(str(f["meta"]))
    except Exception as exc:  # OSError, zipfile.BadZipFile, numpy's ValueError, ...
        if isinstance(exc, ValueError) and str(path) in str(exc):
            raise
        raise ValueError(f"{path}: cannot read model file ({type(exc).__name__}: {exc}); "
                         "corrupt, truncated or not a lava-balanced model") from exc
    return weights, cfg, meta


def _toml_loads(text: str) -> Dict[str, Any]:
    try:
        import tomllib as reader
    except ModuleNotFoundError:
        import tomli as reader
    return reader.loads(text)
