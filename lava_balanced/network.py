"""Wiring the Balanced SNN out of its Lava processes.

::

    SpikeEncoder --s--> EISynapse(in) --a--> BalancedLIF(hidden) --s--> EISynapse(out)
    EISynapse(out) --a--> BalancedLIF(output) --trace--> Readout   (once per phase)

    and, when learning:
    Teacher --teacher--> BalancedLIF(output) --err--> EISynapse(out) --td--> BalancedLIF(hidden)
    BalancedLIF(hidden) --trace--> EISynapse(in)    (once per phase)
    BalancedLIF(output) --trace--> EISynapse(out)   (once per phase)

Every connection carries a leading batch axis, so one Lava run presents a
whole batch of samples per time step.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg

from . import kernels as K
from .config import Config
from .lava_models import TAG_ASYNC, TAG_SYNC
from .model import Weights
from .processes.encoder.process import SpikeEncoder
from .processes.lif.process import BalancedLIF
from .processes.readout.process import Readout
from .processes.synapse.process import EISynapse
from .processes.teacher.process import Teacher
from .reference import layer_params

__all__ = ["BalancedNetwork", "ReadoutNetwork", "run_config"]


def run_config(tag: str = TAG_ASYNC) -> Loihi2SimCfg:
    """The Lava run configuration selecting lava-balanced's CPU models:
    ``"floating_pt_async"`` (default, fast) or ``"floating_pt"`` (Lava's
    synchronous LoihiProtocol). Any other Process in the network (stock Lava
    sources, sinks, monitors) gets its ``floating_pt`` model."""
    if tag not in (TAG_SYNC, TAG_ASYNC):
        raise ValueError(f"unknown model tag {tag!r}; use {TAG_SYNC!r} or {TAG_ASYNC!r}")
    if tag == TAG_SYNC:
        return Loihi2SimCfg(select_tag=TAG_SYNC)
    from .processes.encoder.models import PySpikeEncoderModelAsync
    from .processes.lif.models import PyBalancedLIFModelAsync
    from .processes.readout.models import PyReadoutModelAsync
    from .processes.synapse.models import PyEISynapseModelAsync
    from .processes.teacher.models import PyTeacherModelAsync
    return Loihi2SimCfg(select_tag=TAG_SYNC, exception_proc_model_map={
        SpikeEncoder: PySpikeEncoderModelAsync, BalancedLIF: PyBalancedLIFModelAsync,
        EISynapse: PyEISynapseModelAsync, Teacher: PyTeacherModelAsync, Readout: PyReadoutModelAsync})


class ReadoutNetwork:
    """What every lava-balanced network of processes offers once built: the
    readout's confusion matrix and predictions, and a ``stop`` that is safe
    to call whether or not the network ran (subclasses set ``encoder`` and
    ``readout``, and ``_started`` when they run)."""

    _started = False

    def confusion(self) -> np.ndarray:
        return self.readout.confusion.get().astype(np.int64)

    def predictions(self) -> np.ndarray:
        return self.readout.predictions.get().astype(np.int64)

    def stop(self) -> None:
        if self._started:
            self.encoder.stop()
            self._started = False


class BalancedNetwork(ReadoutNetwork):
    """The Lava processes of a 784-H-10 Balanced SNN for one schedule.

    Parameters
    ----------
    weights : :class:`lava_balanced.model.Weights` (checked for Dale's law).
    cfg : :class:`lava_balanced.config.Config`.
    images, labels : the samples of ``schedule`` (uint8 (N, 784), ints (N,)).
    schedule : :class:`lava_balanced.kernels.Schedule`; ``learning=True``
        trains the weights in place, otherwise the network only infers.
    record : keep each sample's prediction in the readout.
    """

    def __init__(self, weights: Weights, cfg: Config, images: np.ndarray, labels: np.ndarray,
                 schedule: K.Schedule, record: bool = False):
        weights.check()
        self.schedule = schedule
        hid, out, syn_in, syn_out = layer_params(cfg, schedule)
        self.encoder = SpikeEncoder(images=images, schedule=schedule, max_rate=cfg.encoding.max_rate,
                                    name="encoder")
        self.syn_in = EISynapse(weights=weights.w_in, sign=weights.input_sign, params=syn_in,
                                schedule=schedule, name="syn_in")
        self.hidden = BalancedLIF(n=weights.n_hidden, params=hid, schedule=schedule, name="hidden")
        self.syn_out = EISynapse(weights=weights.w_out, sign=weights.hidden_sign, params=syn_out,
                                 schedule=schedule, name="syn_out")
        self.output = BalancedLIF(n=weights.n_output, params=out, schedule=schedule, name="output")
        self.readout = Readout(labels=labels, n_out=weights.n_output, schedule=schedule,
                               mode=cfg.encoding.readout, record=record, name="readout")
        self.encoder.s_out.connect(self.syn_in.s_in)
        self.syn_in.a_out.connect(self.hidden.a_in)
        self.hidden.s_out.connect(self.syn_out.s_in)
        self.syn_out.a_out.connect(self.output.a_in)
        self.output.trace_out.connect(self.readout.trace_in)
        self.teacher: Optional[Teacher] = None
        if schedule.learning:
            self.teacher = Teacher(labels=labels, n_out=weights.n_output, rate=cfg.encoding.teacher,
                                   schedule=schedule, name="teacher")
            self.teacher.s_out.connect(self.output.teacher_in)
            self.hidden.trace_out.connect(self.syn_in.post_in)
            self.output.trace_out.connect(self.syn_out.post_in)
            self.output.err_out.connect(self.syn_out.err_in)
            self.syn_out.td_out.connect(self.hidden.td_in)
        self.hidden_sign = weights.hidden_sign.copy()
        self._started = False

    def run(self, n_batches: int, tag: str = TAG_ASYNC) -> None:
        """Advance by ``n_batches`` cycles of the schedule."""
        cfg = run_config(tag) if not self._started else None
        self.encoder.run(condition=RunSteps(num_steps=n_batches * self.schedule.cycle, blocking=True),
                         run_cfg=cfg)
        self._started = True

    def weights(self) -> Weights:
        """Read the (trained) weights from the synapse processes."""
        return Weights(self.syn_in.w.get(), self.syn_out.w.get(), self.hidden_sign)

