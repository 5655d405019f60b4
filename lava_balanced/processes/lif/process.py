"""Balanced LIF layer: eq. 1, MP balance (eq. 3-5), supervision (eq. 10-11)."""

from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var

from lava_balanced.kernels import LIFParams, Schedule


class BalancedLIF(AbstractProcess):
    """A batch of conductance-based LIF neurons (eq. 1).

    In the nudged phase of a training cycle the layer also applies

    * membrane-potential balance (eq. 3-5) to the ``td_in`` it receives from
      its outgoing synapses, when ``params.eta_mp > 0`` (hidden layer);
    * weak supervision (eq. 10-11) towards the spikes on ``teacher_in``, when
      ``params.eta_c > 0`` (output layer), and sends the error on ``err_out``.

    Parameters
    ----------
    n : number of neurons.
    params : :class:`lava_balanced.kernels.LIFParams`.
    schedule : :class:`lava_balanced.kernels.Schedule` (phases and resets).

    Ports: ``a_in`` (2, B, n) the synaptic drive, ``[0]`` the excitatory
    current ``I_syn/g_L`` and ``[1]`` the inhibitory conductance ``g_I/g_L``;
    ``teacher_in`` (cycle, B, n) the teacher's spike train for a whole cycle,
    received at the cycle's first step; (B, n) each: ``td_in`` top-down
    balance term; ``s_out`` spikes (int8), ``err_out`` supervision error; and
    ``trace_out`` (2, B, n), sent once per phase at its last step: the
    phase-averaged spike rate ``[0]`` (the postsynaptic activity of eq. 12,
    and what the readout counts) and membrane potential ``[1]``.
    Vars: ``v``, ``ref`` (B, n).
    """

    def __init__(self, *, n: int, params: LIFParams, schedule: Schedule, **kwargs):
        super().__init__(n=n, params=params, schedule=schedule, **kwargs)
        if int(n) != n or n < 1:
            raise ValueError(f"n must be a positive integer, got {n}")
        shape = (schedule.batch_size, int(n))
        self.a_in = InPort(shape=(2,) + shape)
        self.td_in = InPort(shape=shape)
        self.teacher_in = InPort(shape=(schedule.cycle,) + shape)
        self.s_out = OutPort(shape=shape)
        self.err_out = OutPort(shape=shape)
        self.trace_out = OutPort(shape=(2,) + shape)
        self.v = Var(shape=shape, init=params.v_leak)
        self.ref = Var(shape=shape, init=0)
