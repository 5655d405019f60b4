"""CPU models of :class:`BalancedLIF` (``floating_pt`` and
``floating_pt_async``)."""

import numpy as np
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType

from lava_balanced import kernels as K
from lava_balanced.lava_models import StepMixin, model_pair
from lava_balanced.processes.lif.process import BalancedLIF


class _BalancedLIFStep(StepMixin):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    td_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    teacher_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int8)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int8)
    err_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    trace_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    v: np.ndarray = LavaPyType(np.ndarray, float)
    ref: np.ndarray = LavaPyType(np.ndarray, float)

    def _setup(self):
        self._p = self.proc_params["params"]
        self._sched = self.proc_params["schedule"]

    def _step(self):
        _, tau = self._sched.position(self._t)
        if tau == self._sched.t_free:  # the free phase's mean potentials (supervision = "softmax")
            self._free_v = self._vsum / self._sched.t_free
        if self._sched.phase_start(tau):  # each phase starts at rest
            self.v[:] = self._p.v_leak
            self.ref[:] = 0
            self._count = np.zeros(self.v.shape)
            self._vsum = np.zeros(self.v.shape)
        if tau == 0:
            self._teacher = self.teacher_in.recv()
        e, i = self.a_in.recv()
        td, teacher = self.td_in.recv(), self._teacher[tau]
        phase = self._sched.phase(tau)
        nudged = phase != K.FREE
        v, ref, s, err = K.lif_step(self.v, self.ref, e, i, td, teacher, nudged, self._p,
                                    self._free_v if nudged else None, self._sched.nudge_sign(phase))
        self.v[:] = v
        self.ref[:] = ref
        self.s_out.send(s)
        self.err_out.send(err)
        self._count += s
        self._vsum += v
        if self._sched.phase_end(tau):
            length = self._sched.phase_length(tau)
            self.trace_out.send(np.stack((self._count / length, self._vsum / length)))


PyBalancedLIFModel, PyBalancedLIFModelAsync = model_pair(
    _BalancedLIFStep, BalancedLIF, "PyBalancedLIFModel")
