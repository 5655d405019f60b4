"""CPU models of :class:`Readout` (``floating_pt`` and ``floating_pt_async``)."""

import numpy as np
from lava.magma.core.model.py.ports import PyInPort
from lava.magma.core.model.py.type import LavaPyType

from lava_balanced import kernels as K
from lava_balanced.lava_models import StepMixin, model_pair
from lava_balanced.processes.readout.process import Readout


class _ReadoutStep(StepMixin):
    trace_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    confusion: np.ndarray = LavaPyType(np.ndarray, int)
    predictions: np.ndarray = LavaPyType(np.ndarray, int)

    def _setup(self):
        p = self.proc_params
        self._sched, self._labels = p["schedule"], np.asarray(p["labels"], dtype=np.int64)
        self._mode, self._record = p["mode"], p["record"]

    def _step(self):
        sched = self._sched
        g, tau = sched.position(self._t)
        if tau == sched.t_free - 1:
            rate, v_mean = self.trace_in.recv()
            idx, valid = sched.indices(g)
            pred = K.readout_predict(rate * sched.t_free, v_mean, self._mode)
            y = self._labels[idx]
            np.add.at(self.confusion, (y[valid], pred[valid]), 1)
            if self._record:
                self.predictions[idx[valid]] = pred[valid]
        elif sched.phase_end(tau):
            self.trace_in.recv()  # a nudged phase's trace: not used for classification


PyReadoutModel, PyReadoutModelAsync = model_pair(_ReadoutStep, Readout, "PyReadoutModel")
