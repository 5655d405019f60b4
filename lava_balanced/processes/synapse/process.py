"""E-I synapses with optional short-term plasticity: eq. 2, 6, 7-9, 12."""

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var

from lava_balanced.kernels import Schedule, SynapseParams
from lava_balanced.model import check_dale


class EISynapse(AbstractProcess):
    """All-to-all synapses from ``n_pre`` to ``n_post`` neurons, obeying
    Dale's law: row ``j`` of ``weights`` has the sign ``sign[j]`` of its
    presynaptic neuron (+1 excitatory, -1 inhibitory).

    Forward (every step): the excitatory rows drive the current ``I_syn``
    (eq. 2; eq. 9 with STP), the inhibitory rows the
    conductance ``g_I``; both leave on ``a_out`` (2, B, n_post). With ``params.stp`` each
    presynaptic neuron carries Tsodyks-Markram ``u, x`` (eq. 7-8).

    Backward (every step): the postsynaptic error received on ``err_in``
    returns through the same weights as the top-down term of MP balance
    (eq. 5), sent on ``td_out`` one step later.

    Learning (last step of each training cycle): the phase-averaged pre
    activity (spikes on ``s_in``) and post activity (``post_in`` (2, B,
    n_post), the postsynaptic layer's phase trace, received once per phase) of the free and nudged phases are consolidated by eq. 12 and applied with the
    sign-preserving rate of eq. 6.

    Parameters
    ----------
    weights : (n_pre, n_post) float, signs as ``sign`` says.
    sign : (n_pre,) of +1 / -1.
    params : :class:`lava_balanced.kernels.SynapseParams`.
    schedule : :class:`lava_balanced.kernels.Schedule`.

    Vars: ``w`` (n_pre, n_post); ``drive_e``, ``drive_i`` (B, n_post);
    ``u``, ``x`` (B, n_pre).
    """

    def __init__(self, *, weights: np.ndarray, sign: np.ndarray, params: SynapseParams,
                 schedule: Schedule, **kwargs):
        weights = np.asarray(weights, dtype=np.float64)
        sign = np.asarray(sign, dtype=np.float64)
        super().__init__(sign=sign, params=params, schedule=schedule, **kwargs)
        if weights.ndim != 2:
            raise ValueError(f"weights must have shape (n_pre, n_post), got {weights.shape}")
        if sign.shape != (weights.shape[0],):
            raise ValueError(f"sign must have shape ({weights.shape[0]},), got {sign.shape}")
        if not np.all(np.isfinite(weights)):
            raise ValueError("weights contain NaN or infinite values")
        if not np.all(np.isin(sign, (-1.0, 1.0))):
            raise ValueError("sign must hold only +1 and -1")
        check_dale(weights, sign)
        n_pre, n_post = weights.shape
        b = schedule.batch_size
        self.s_in = InPort(shape=(b, n_pre))
        self.post_in = InPort(shape=(2, b, n_post))
        self.err_in = InPort(shape=(b, n_post))
        self.a_out = OutPort(shape=(2, b, n_post))
        self.td_out = OutPort(shape=(b, n_pre))
        self.w = Var(shape=weights.shape, init=weights)
        self.drive_e = Var(shape=(b, n_post), init=0.0)
        self.drive_i = Var(shape=(b, n_post), init=0.0)
        self.u = Var(shape=(b, n_pre), init=0.0)
        self.x = Var(shape=(b, n_pre), init=1.0)
