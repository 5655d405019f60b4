"""Current-based LIF layer of the deployable network (NIR's CubaLIF / LIF)."""

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var

from lava_balanced.kernels import Schedule

PARAMS = ("decay_syn", "decay_mem", "gain", "v_leak", "v_th", "v_reset")


class CubaLIFLayer(AbstractProcess):
    """A batch of current-based LIF neurons, one step::

        I <- decay_syn * I + a_in                                (cuba_current_step)
        V <- decay_mem * V + (1 - decay_mem) * V_L + gain * I    (cuba_membrane_step)
        spike where V > V_th, then V <- V_reset                  (fire_above)

    the deployable form of eq. 1-2 (``lava_balanced.deploy``). Every
    parameter is per neuron. State returns to rest (``I = 0``, ``V = V_L``)
    at the first step of each sample's presentation, as ``schedule`` says;
    at its last step the layer sends its spike rate and mean potential on
    ``trace_out`` (what :class:`lava_balanced.processes.readout.process.Readout`
    classifies from).

    The ``fixed_pt`` model runs Loihi's integer CUBA neuron instead (12-bit
    decays, 24-bit state, threshold mantissa << 6); its parameters come from
    :mod:`lava_balanced.exporters.loihi`.

    Parameters
    ----------
    n : number of neurons.
    params : dict with the (n,) arrays ``decay_syn, decay_mem, gain, v_leak,
        v_th, v_reset`` (floating point) or the integer fields of
        :class:`lava_balanced.exporters.loihi.LoihiLayer` (fixed point).
    schedule : :class:`lava_balanced.kernels.Schedule` (``learning=False``).

    Ports: ``a_in`` (B, n), ``s_out`` (B, n) int8, ``trace_out`` (2, B, n).
    Vars: ``i``, ``v`` (B, n).
    """

    def __init__(self, *, n: int, params: dict, schedule: Schedule, **kwargs):
        if int(n) != n or n < 1:
            raise ValueError(f"n must be a positive integer, got {n}")
        if schedule.learning:
            raise ValueError("CubaLIFLayer only infers: give it a schedule with learning=False")
        params = {k: np.broadcast_to(np.asarray(v), (int(n),)).copy() for k, v in params.items()}
        super().__init__(n=n, params=params, schedule=schedule, **kwargs)
        shape = (schedule.batch_size, int(n))
        self.a_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.trace_out = OutPort(shape=(2,) + shape)
        v0 = params.get("v_leak", np.zeros(int(n)))
        self.i = Var(shape=shape, init=0)
        self.v = Var(shape=shape, init=np.broadcast_to(v0, shape).copy())
