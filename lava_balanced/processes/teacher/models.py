"""CPU models of :class:`Teacher` (``floating_pt`` and ``floating_pt_async``)."""

import numpy as np
from lava.magma.core.model.py.ports import PyOutPort
from lava.magma.core.model.py.type import LavaPyType

from lava_balanced import kernels as K
from lava_balanced.lava_models import StepMixin, model_pair
from lava_balanced.processes.teacher.process import Teacher


class _TeacherStep(StepMixin):
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int8)

    def _setup(self):
        p = self.proc_params
        self._sched, self._labels = p["schedule"], np.asarray(p["labels"], dtype=np.int64)
        self._n_out, self._rate = p["n_out"], p["rate"]

    def _step(self):
        g, tau = self._sched.position(self._t)
        if tau == 0:
            idx, _ = self._sched.indices(g)
            self.s_out.send(K.cycle_teacher(self._sched, g, idx, self._labels[idx], self._n_out, self._rate))


PyTeacherModel, PyTeacherModelAsync = model_pair(_TeacherStep, Teacher, "PyTeacherModel")
