"""CPU models of :class:`BatchDense` (``floating_pt`` and ``floating_pt_async``)."""

import numpy as np
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType

from lava_balanced import equations as eq
from lava_balanced.lava_models import StepMixin, model_pair
from lava_balanced.processes.dense.process import BatchDense


class _BatchDenseStep(StepMixin):
    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int8)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    weights: np.ndarray = LavaPyType(np.ndarray, float)
    bias: np.ndarray = LavaPyType(np.ndarray, float)

    def _step(self):
        self.a_out.send(eq.dense_drive(self.s_in.recv(), self.weights, self.bias))


PyBatchDenseModel, PyBatchDenseModelAsync = model_pair(_BatchDenseStep, BatchDense, "PyBatchDenseModel")
