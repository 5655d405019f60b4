"""CPU models of :class:`BatchDense`: ``floating_pt`` and ``floating_pt_async``
(float weights), ``fixed_pt`` and ``fixed_pt_async`` (Loihi's integer weight
mantissas with a shared exponent, :func:`lava_balanced.equations.
loihi_dense_accumulate`, prepared once as :class:`lava_balanced.equations.
LoihiDense`)."""

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


class _BatchDenseFixedStep(StepMixin):
    """Integer dense accumulation: ``a_out = (s_in @ weights) << weight_exp``
    (an arithmetic right shift for a negative exponent), delivered in the
    same step; with a ``sign_mode`` proc param (one Lava ``SignMode`` value
    per presynaptic row) each sign mode's rows are one connection, shifted
    on its own. ``weights`` are the 8-bit mantissas of
    :class:`lava_balanced.exporters.loihi.LoihiLayer`, already in their rows'
    sign-mode ranges. Loihi's dense synapse has no bias (a neuron's bias is
    :class:`CubaLIFLayer`'s ``bias_mant``), so a non-zero ``bias`` is refused."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int8)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    weights: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=9)
    bias: np.ndarray = LavaPyType(np.ndarray, np.int32)

    def _setup(self):
        if np.any(self.bias != 0):
            raise ValueError("the fixed_pt BatchDense has no bias: put it in the neuron (bias_mant, bias_exp)")
        # the weights are constant while the process runs: prepared once (eq.LoihiDense)
        self._dense = eq.LoihiDense(self.weights, int(self.proc_params.get("weight_exp", 0)),
                                    self.proc_params.get("sign_mode", None))

    def _step(self):
        a = self._dense(self.s_in.recv())
        self.a_out.send(a.astype(np.int32))


PyBatchDenseModelFixed, PyBatchDenseModelFixedAsync = model_pair(
    _BatchDenseFixedStep, BatchDense, "PyBatchDenseModelFixed", tags=("fixed_pt", "fixed_pt_async"))
