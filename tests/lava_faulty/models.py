import numpy as np
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType

from lava_balanced.lava_models import StepMixin, model_pair
from tests.lava_faulty.process import Faulty


class _FaultyStep(StepMixin):
    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)

    def _step(self):
        self.s_out.send(np.ones(1))
        self.s_in.recv()
        if self._t + 1 == self.proc_params["fail_at"]:
            raise ValueError(f"deliberate failure at step {self._t + 1}")


PyFaultyModel, PyFaultyModelAsync = model_pair(_FaultyStep, Faulty, "PyFaultyModel")
