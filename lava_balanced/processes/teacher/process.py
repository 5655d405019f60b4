"""Teacher: the high-frequency spike train on the true class (section 4.4)."""

import numpy as np
from lava.magma.core.process.ports.ports import OutPort
from lava.magma.core.process.process import AbstractProcess

from lava_balanced.kernels import Schedule


class Teacher(AbstractProcess):
    """Sends, synchronously with the input, Bernoulli spikes at probability
    ``rate`` per step on the output neuron of each sample's true class
    (section 4.4: the same rate as the input layer's maximum).

    Parameters
    ----------
    labels : int array (N,), the classes of the samples in ``schedule`` order.
    n_out : number of classes.
    rate : spike probability per step, in [0, 1].
    schedule : :class:`lava_balanced.kernels.Schedule`.

    Ports: ``s_out`` (cycle, B, n_out): at the first step of each cycle the
    teacher sends the whole cycle's spike train in one message (one message
    per cycle instead of one per step: messages dominate the cost of a Lava
    step on a CPU); the output layer applies it step by step.
    """

    def __init__(self, *, labels: np.ndarray, n_out: int, rate: float, schedule: Schedule, **kwargs):
        labels = np.asarray(labels)
        super().__init__(labels=labels, n_out=n_out, rate=rate, schedule=schedule, **kwargs)
        if labels.shape != (schedule.n_samples,):
            raise ValueError(f"labels must have shape ({schedule.n_samples},), got {labels.shape}")
        if labels.size and (labels.min() < 0 or labels.max() >= n_out):
            raise ValueError(f"labels must lie in 0..{n_out - 1}")
        if not (0 <= rate <= 1):
            raise ValueError(f"rate must lie in [0, 1], got {rate}")
        self.s_out = OutPort(shape=(schedule.cycle, schedule.batch_size, n_out))
