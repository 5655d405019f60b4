"""Configuration: small typed dataclasses, validated, read from and written to
TOML.

Every constant the paper leaves open (``docs/model.md``, "Where the paper is
silent") is a field here; the defaults are the project's reading.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Dict, Union

try:  # Python 3.11+
    import tomllib as _toml_reader
except ModuleNotFoundError:  # Python 3.10
    import tomli as _toml_reader

import tomli_w

__all__ = ["NeuronConfig", "SynapseConfig", "EncodingConfig", "LearningConfig",
           "TrainingConfig", "Config", "ConfigError"]


class ConfigError(ValueError):
    """A configuration value is out of its valid range."""


def _positive(obj, *names):
    for n in names:
        v = getattr(obj, n)
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ConfigError(f"{type(obj).__name__}.{n} must be a positive number, got {v!r}")


def _nonneg(obj, *names):
    for n in names:
        v = getattr(obj, n)
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
            raise ConfigError(f"{type(obj).__name__}.{n} must be >= 0, got {v!r}")


def _finite(obj, *names):
    for n in names:
        v = getattr(obj, n)
        if not (isinstance(v, (int, float)) and math.isfinite(v)):
            raise ConfigError(f"{type(obj).__name__}.{n} must be a finite number, got {v!r}")


@dataclass
class NeuronConfig:
    """Conductance LIF neuron, eq. 1. Potentials in threshold units by
    default (leak 0, threshold 1); times in ms."""

    dt: float = 1.0          #: simulation step (ms)
    tau_m: float = 2.0       #: membrane time constant C_m / g_L (ms)
    v_leak: float = 0.0      #: leak potential V_L
    v_th: float = 1.0        #: threshold V_th
    v_reset: float = 0.0     #: reset potential after a spike
    v_exc: float = 4.0       #: excitatory reversal potential V_E
    v_inh: float = -1.0      #: inhibitory reversal potential V_I
    g_exc: float = 0.0       #: tonic excitatory conductance g_E / g_L
    t_ref: int = 0           #: refractory period (steps)
    #: "conductance" (eq. 1: g_I (V_I - V)) or "current" (an inhibitory synapse
    #: injects the current g_I (V_I - V_L) it would at rest: exactly NIR-exportable)
    inhibition: str = "conductance"
    #: False: the output layer integrates eq. 1 without threshold or reset (leaky
    #: integrators, NIR CubaLI) and is read out by its mean potential
    output_spikes: bool = True

    def validate(self):
        if self.inhibition not in ("conductance", "current"):
            raise ConfigError(f"NeuronConfig.inhibition must be 'conductance' or 'current', got {self.inhibition!r}")
        _positive(self, "dt", "tau_m")
        _finite(self, "v_leak", "v_th", "v_reset", "v_exc", "v_inh")
        _nonneg(self, "g_exc", "t_ref")
        if self.v_th <= self.v_leak:
            raise ConfigError(f"NeuronConfig.v_th ({self.v_th}) must exceed v_leak ({self.v_leak})")


@dataclass
class SynapseConfig:
    """Synaptic dynamics: decay of eq. 2, Tsodyks-Markram STP of eq. 7-9."""

    tau_s: float = 1.0       #: synaptic current time constant (ms), eq. 9
    stp: bool = True         #: use STP (eq. 7-9) on the hidden -> output synapses
    stp_input: bool = False  #: also on the input -> hidden synapses
    U: float = 0.1           #: STP utilisation increment, eq. 7
    tau_f: float = 100.0     #: facilitation recovery time (ms), eq. 7
    tau_d: float = 5.0       #: depression recovery time (ms), eq. 8
    A: float = 2.0           #: STP gain ("maximal connection weight"), eq. 9

    def validate(self):
        _positive(self, "tau_s", "tau_f", "tau_d", "A")
        if not (0 < self.U <= 1):
            raise ConfigError(f"SynapseConfig.U must lie in (0, 1], got {self.U}")


@dataclass
class EncodingConfig:
    """Input encoding and the presentation schedule."""

    max_rate: float = 1.0     #: spike probability per step of a pixel at intensity 1
    teacher_rate: float = -1.0  #: teacher spike probability per step; < 0: same as max_rate
    t_free: int = 16          #: steps of the free phase (input only)
    t_nudge: int = 16         #: steps of the nudged phase (input + teacher), training only
    replay_input: bool = True  #: the nudged phase replays the free phase's input spikes
    readout: str = "spikes"   #: classify by "spikes" (count) or "potential" (mean V)

    def validate(self):
        if not (0 < self.max_rate <= 1):
            raise ConfigError(f"EncodingConfig.max_rate must lie in (0, 1], got {self.max_rate}")
        if self.teacher_rate > 1:
            raise ConfigError(f"EncodingConfig.teacher_rate must be <= 1, got {self.teacher_rate}")
        if int(self.t_free) != self.t_free or self.t_free < 1:
            raise ConfigError(f"EncodingConfig.t_free must be a positive integer, got {self.t_free}")
        if int(self.t_nudge) != self.t_nudge or self.t_nudge < 1:
            raise ConfigError(f"EncodingConfig.t_nudge must be a positive integer, got {self.t_nudge}")
        if self.readout not in ("spikes", "potential"):
            raise ConfigError(f"EncodingConfig.readout must be 'spikes' or 'potential', got {self.readout!r}")

    @property
    def teacher(self) -> float:
        return self.max_rate if self.teacher_rate < 0 else self.teacher_rate


SUPERVISIONS = ("squared", "one_sided", "softmax")


@dataclass
class LearningConfig:
    """Learning rates of eq. 5, 6, 11, 12 and the initial weights."""

    eta_mp: float = 1.0       #: MP balance rate, eq. 5
    eta_c: float = 0.1        #: supervision rate, eq. 11
    eta_stdp: float = 1.0     #: consolidation rate, eq. 12
    eta0: float = 0.2         #: base learning rate, eq. 6
    eta1: float = 0.5         #: shrink margin in (0, 1), eq. 6
    init_in: float = 0.02     #: input -> hidden weights ~ U(0, init_in)
    init_out: float = 0.1     #: hidden -> output weight magnitudes ~ U(0, init_out)
    lr_hidden_scale: float = 1.0  #: multiplies eta0 on the input -> hidden synapses
    feedback_delay: int = 2   #: steps from an output error to its top-down term in the hidden layer (eq. 5)
    lr_decay_batches: float = 300.0  #: > 0: rate eta / (1 + batch / lr_decay_batches); 0: constant
    #: the rate also falls linearly to zero over the training run: times
    #: (1 - batch / total batches of training.epochs epochs)
    lr_anneal: bool = False
    hidden_trace: str = "rate"        #: V_i of a hidden neuron in eq. 12: "rate" or "potential" (phase means)
    output_trace: str = "potential"   #: V_i of an output neuron in eq. 12: "rate" or "potential"
    #: error of eq. 10-11: "squared" (the paper's, both ways), "one_sided"
    #: (only potentials on the wrong side of their target: below threshold
    #: under a teacher spike, above rest without one) or "softmax" (a
    #: cross-entropy of the free phase's mean output potentials; a deviation
    #: from eq. 10, see docs/model.md)
    supervision: str = "squared"
    softmax_scale: float = 10.0  #: supervision = "softmax": logits per threshold unit of potential
    softmax_cut: float = 0.8     #: supervision = "softmax": no error once the taught class has p > this
    #: presynaptic factor of eq. 12 at the hidden -> output synapses: "nudged"
    #: (eq. 12 as written) or "free" (the free phase's in both terms)
    output_pre: str = "nudged"
    #: the states t and t+1 of eq. 12: "positive" (the free phase and the
    #: nudged phase) or "symmetric" (a phase nudged against the teacher and
    #: one nudged towards it, the free phase kept for the prediction and the
    #: softmax error; a cycle of t_free + 2 t_nudge steps; see docs/model.md)
    nudging: str = "positive"

    def validate(self):
        _nonneg(self, "eta_mp", "eta_c", "eta_stdp", "eta0", "lr_hidden_scale", "lr_decay_batches")
        _positive(self, "init_in", "init_out")
        for n in ("hidden_trace", "output_trace"):
            if getattr(self, n) not in ("rate", "potential"):
                raise ConfigError(f"LearningConfig.{n} must be 'rate' or 'potential', got {getattr(self, n)!r}")
        if self.supervision not in SUPERVISIONS:
            raise ConfigError(f"LearningConfig.supervision must be one of {SUPERVISIONS}, got {self.supervision!r}")
        _positive(self, "softmax_scale")
        if not (0 < self.softmax_cut <= 1):
            raise ConfigError(f"LearningConfig.softmax_cut must lie in (0, 1], got {self.softmax_cut}")
        if self.nudging not in ("positive", "symmetric"):
            raise ConfigError(f"LearningConfig.nudging must be 'positive' or 'symmetric', got {self.nudging!r}")
        if self.output_pre not in ("nudged", "free"):
            raise ConfigError(f"LearningConfig.output_pre must be 'nudged' or 'free', got {self.output_pre!r}")
        if int(self.feedback_delay) != self.feedback_delay or self.feedback_delay < 1:
            raise ConfigError(f"LearningConfig.feedback_delay must be an integer >= 1, got {self.feedback_delay}")
        if not (0 < self.eta1 < 1):
            raise ConfigError(f"LearningConfig.eta1 must lie in (0, 1), got {self.eta1}")
        if not isinstance(self.lr_anneal, bool):
            raise ConfigError(f"LearningConfig.lr_anneal must be true or false, got {self.lr_anneal!r}")


@dataclass
class TrainingConfig:
    """Network size and the training loop."""

    n_hidden: int = 100
    n_output: int = 10
    p_inh: float = 0.3        #: proportion of inhibitory hidden neurons
    epochs: int = 1
    batch_size: int = 64
    seed: int = 0
    n_train: int = 0          #: 0: all training samples
    n_test: int = 0           #: 0: all test samples
    checkpoint_every: int = 200  #: batches between checkpoints (0: only at epoch ends)

    def validate(self):
        for n in ("n_hidden", "n_output", "epochs", "batch_size"):
            v = getattr(self, n)
            if int(v) != v or v < 1:
                raise ConfigError(f"TrainingConfig.{n} must be a positive integer, got {v!r}")
        if not (0.0 <= self.p_inh <= 1.0):
            raise ConfigError(f"TrainingConfig.p_inh (inhibitory proportion) must lie in [0, 1], got {self.p_inh}")
        for n in ("n_train", "n_test", "checkpoint_every", "seed"):
            v = getattr(self, n)
            if int(v) != v or v < 0:
                raise ConfigError(f"TrainingConfig.{n} must be an integer >= 0, got {v!r}")


_SECTIONS = {"neuron": NeuronConfig, "synapse": SynapseConfig, "encoding": EncodingConfig,
             "learning": LearningConfig, "training": TrainingConfig}


@dataclass
class Config:
    """The whole configuration; ``Config.load(path)`` reads TOML with the
    sections ``[neuron] [synapse] [encoding] [learning] [training]``."""

    neuron: NeuronConfig = field(default_factory=NeuronConfig)
    synapse: SynapseConfig = field(default_factory=SynapseConfig)
    encoding: EncodingConfig = field(default_factory=EncodingConfig)
    learning: LearningConfig = field(default_factory=LearningConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)

    def __post_init__(self):
        self.validate()

    def validate(self) -> "Config":
        for name in _SECTIONS:
            getattr(self, name).validate()
        if not self.neuron.output_spikes and self.encoding.readout != "potential":
            raise ConfigError("neuron.output_spikes = false (a non-spiking output layer) needs "
                              "encoding.readout = 'potential', got " + repr(self.encoding.readout))
        return self

    # -- dict / TOML ------------------------------------------------------
    def to_dict(self) -> Dict[str, Dict[str, Any]]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Config":
        unknown = set(data) - set(_SECTIONS)
        if unknown:
            raise ConfigError(f"unknown config section(s): {sorted(unknown)}; known: {sorted(_SECTIONS)}")
        parts = {}
        for name, klass in _SECTIONS.items():
            section = dict(data.get(name, {}))
            known = {f.name: f for f in fields(klass)}
            bad = set(section) - set(known)
            if bad:
                raise ConfigError(f"unknown key(s) in [{name}]: {sorted(bad)}")
            for k, v in section.items():
                default = getattr(klass(), k)
                if isinstance(default, bool) and not isinstance(v, bool):
                    raise ConfigError(f"[{name}] {k} must be true or false, got {v!r}")
                if isinstance(default, float) and isinstance(v, int) and not isinstance(v, bool):
                    section[k] = float(v)
                elif isinstance(default, int) and not isinstance(default, bool) and isinstance(v, float):
                    if v != int(v):
                        raise ConfigError(f"[{name}] {k} must be an integer, got {v!r}")
                    section[k] = int(v)
            parts[name] = klass(**section)
        return cls(**parts)

    @classmethod
    def load(cls, path: Union[str, Path]) -> "Config":
        with open(path, "rb") as fh:
            try:
                data = _toml_reader.load(fh)
            except _toml_reader.TOMLDecodeError as exc:
                raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
        return cls.from_dict(data)

    def dumps(self) -> str:
        return tomli_w.dumps(self.to_dict())

    def save(self, path: Union[str, Path]) -> None:
        Path(path).write_text(self.dumps())

    def override(self, **dotted: Any) -> "Config":
        """A copy with ``section.key=value`` overrides, e.g.
        ``cfg.override(**{"training.n_hidden": 50})``."""
        data = self.to_dict()
        for key, value in dotted.items():
            if value is None:
                continue
            section, _, name = key.partition(".")
            if section not in data or name not in data[section]:
                raise ConfigError(f"unknown config key {key!r}")
            data[section][name] = value
        return Config.from_dict(data)
