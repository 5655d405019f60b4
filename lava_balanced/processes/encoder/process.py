"""Spike encoder: the Balanced SNN's input layer (section 3.2)."""

import numpy as np
from lava.magma.core.process.ports.ports import OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var

from lava_balanced.kernels import Schedule


class SpikeEncoder(AbstractProcess):
    """Random-sampling encoder (Algorithm 1, step 1): each step a pixel of
    intensity ``p`` spikes with probability ``p * max_rate``.

    Holds the images of a run and shows them batch by batch as ``schedule``
    says; each sample's random stream is keyed by ``(schedule.seed, epoch,
    sample index)`` and, with
    ``schedule.replay_input``, the nudged phase replays the free phase's
    spikes.

    Parameters
    ----------
    images : uint8 array (N, n_in), pixel values 0..255.
    schedule : :class:`lava_balanced.kernels.Schedule`.
    max_rate : spike probability per step at intensity 1, in (0, 1].

    Ports: ``s_out`` (B, n_in) spikes. Vars: ``batch`` (1,) the global batch
    shown last.
    """

    def __init__(self, *, images: np.ndarray, schedule: Schedule, max_rate: float = 1.0, **kwargs):
        images = np.asarray(images)
        super().__init__(images=images, schedule=schedule, max_rate=max_rate, **kwargs)
        if images.ndim != 2:
            raise ValueError(f"images must have shape (N, n_in), got {images.shape}")
        if images.shape[0] != schedule.n_samples:
            raise ValueError(f"{images.shape[0]} images but schedule.n_samples = {schedule.n_samples}")
        if not (0 < max_rate <= 1):
            raise ValueError(f"max_rate must lie in (0, 1], got {max_rate}")
        shape = (schedule.batch_size, images.shape[1])
        self.s_out = OutPort(shape=shape)
        self.batch = Var(shape=(1,), init=-1)
