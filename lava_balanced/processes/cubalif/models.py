"""CPU models of :class:`CubaLIFLayer` (``floating_pt`` and ``floating_pt_async``)."""

import numpy as np
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType

from lava_balanced import equations as eq
from lava_balanced.lava_models import StepMixin, model_pair
from lava_balanced.processes.cubalif.process import CubaLIFLayer


class _CubaLIFStep(StepMixin):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int8)
    trace_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    i: np.ndarray = LavaPyType(np.ndarray, float)
    v: np.ndarray = LavaPyType(np.ndarray, float)

    def _setup(self):
        self._p = self.proc_params["params"]
        self._sched = self.proc_params["schedule"]

    def _step(self):
        p = self._p
        _, tau = self._sched.position(self._t)
        if tau == 0:  # each sample starts at rest
            self.i[:] = 0.0
            self.v[:] = p["v_leak"]
            self._count = np.zeros(self.v.shape)
            self._vsum = np.zeros(self.v.shape)
        i = eq.cuba_current_step(self.i, self.a_in.recv(), p["decay_syn"])
        v = eq.cuba_membrane_step(self.v, i, p["decay_mem"], p["gain"], p["v_leak"])
        s, v = eq.fire_above(v, p["v_th"], p["v_reset"])
        self.i[:] = i
        self.v[:] = v
        s = s.view(np.int8)
        self.s_out.send(s)
        self._count += s
        self._vsum += v
        if tau == self._sched.t_free - 1:
            n = self._sched.t_free
            self.trace_out.send(np.stack((self._count / n, self._vsum / n)))


PyCubaLIFModel, PyCubaLIFModelAsync = model_pair(_CubaLIFStep, CubaLIFLayer, "PyCubaLIFModel")
