"""CPU models of :class:`SpikeEncoder` (``floating_pt`` and
``floating_pt_async``)."""

import numpy as np
from lava.magma.core.model.py.ports import PyOutPort
from lava.magma.core.model.py.type import LavaPyType

from lava_balanced import kernels as K
from lava_balanced.lava_models import StepMixin, model_pair
from lava_balanced.processes.encoder.process import SpikeEncoder
from lava_balanced.reference import intensities


class _SpikeEncoderStep(StepMixin):
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int8)
    batch: np.ndarray = LavaPyType(np.ndarray, int)

    def _setup(self):
        p = self.proc_params
        self._sched = p["schedule"]
        self._x = intensities(p["images"])
        self._max_rate = p["max_rate"]

    def _step(self):
        g, tau = self._sched.position(self._t)
        if tau == 0:
            idx, _ = self._sched.indices(g)
            self._xb = self._x[idx]
            self._uni = K.encoder_uniforms(self._sched.seed, self._sched.epoch(g), idx,
                                           self._sched.n_draw, self._x.shape[1])
            self.batch[0] = g
        self.s_out.send(K.encode(self._uni[self._sched.input_step(tau)], self._xb, self._max_rate))


PySpikeEncoderModel, PySpikeEncoderModelAsync = model_pair(
    _SpikeEncoderStep, SpikeEncoder, "PySpikeEncoderModel")
