"""Readout: classification from the output layer's free phase."""

import numpy as np
from lava.magma.core.process.ports.ports import InPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var

from lava_balanced.kernels import Schedule


class Readout(AbstractProcess):
    """Receives the output layer's phase trace (spike rate and mean potential
    of each sample over the free phase), classifies each sample (most spikes, ties broken by the mean
    potential; or the mean potential alone) and accumulates a confusion
    matrix. Everything the host reads is small: ``confusion`` (n_out, n_out),
    and, when ``record=True``, ``predictions`` (one per sample).

    Parameters
    ----------
    labels : int array (N,), true classes in ``schedule`` order.
    n_out : number of classes.
    mode : ``"spikes"`` or ``"potential"``.
    schedule : :class:`lava_balanced.kernels.Schedule`.
    record : keep each sample's prediction (evaluation only).

    Ports: ``trace_in`` (2, B, n_out), the output layer's ``trace_out``
    (one message per phase: rate ``[0]``, mean potential ``[1]``).
    """

    def __init__(self, *, labels: np.ndarray, n_out: int, schedule: Schedule,
                 mode: str = "spikes", record: bool = False, **kwargs):
        labels = np.asarray(labels)
        super().__init__(labels=labels, n_out=n_out, schedule=schedule, mode=mode, record=record, **kwargs)
        if labels.shape != (schedule.n_samples,):
            raise ValueError(f"labels must have shape ({schedule.n_samples},), got {labels.shape}")
        if mode not in ("spikes", "potential"):
            raise ValueError(f"mode must be 'spikes' or 'potential', got {mode!r}")
        b = schedule.batch_size
        self.trace_in = InPort(shape=(2, b, n_out))
        self.confusion = Var(shape=(n_out, n_out), init=0)
        self.predictions = Var(shape=(schedule.n_samples if record else 1,), init=-1)
