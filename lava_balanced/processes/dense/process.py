"""Dense connection of the deployable network (signed weights, optional bias)."""

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var


class BatchDense(AbstractProcess):
    """All-to-all synapses of the deployable network, a batch of samples per
    step: ``a_out = s_in @ weights + bias`` (``equations.dense_drive``),
    delivered in the same step (unlike Lava's stock Dense, which delays by
    one step).

    Unlike :class:`lava_balanced.processes.synapse.process.EISynapse` the
    weights are signed freely and nothing is learnt: this is what an
    exported (or NIR-imported) network runs on. The ``fixed_pt`` model takes
    integer weight mantissas with a shared exponent (Loihi's format,
    :mod:`lava_balanced.exporters.loihi`).

    Parameters
    ----------
    weights : (n_pre, n_post) float (``floating_pt``) or integer mantissas
        (``fixed_pt``).
    bias : (n_post,) or scalar, added every step.
    batch_size : samples per step.
    weight_exp : shared exponent of the weights (``fixed_pt`` only).

    Ports: ``s_in`` (B, n_pre) int8 spikes, ``a_out`` (B, n_post).
    Vars: ``weights``, ``bias``.
    """

    def __init__(self, *, weights: np.ndarray, bias=0.0, batch_size: int = 1, weight_exp: int = 0,
                 **kwargs):
        weights = np.asarray(weights)
        if weights.ndim != 2:
            raise ValueError(f"weights must have shape (n_pre, n_post), got {weights.shape}")
        if not np.all(np.isfinite(weights)):
            raise ValueError("weights contain NaN or infinite values")
        n_pre, n_post = weights.shape
        bias = np.broadcast_to(np.asarray(bias, dtype=weights.dtype), (n_post,)).copy()
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        super().__init__(weight_exp=int(weight_exp), **kwargs)
        self.s_in = InPort(shape=(batch_size, n_pre))
        self.a_out = OutPort(shape=(batch_size, n_post))
        self.weights = Var(shape=weights.shape, init=weights)
        self.bias = Var(shape=(n_post,), init=bias)
