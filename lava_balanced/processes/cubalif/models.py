"""CPU models of :class:`CubaLIFLayer`: ``floating_pt`` and
``floating_pt_async`` (float), ``fixed_pt`` and ``fixed_pt_async`` (Loihi's
integer CUBA neuron, :func:`lava_balanced.equations.loihi_current_step`,
:func:`~lava_balanced.equations.loihi_membrane_step`,
:func:`~lava_balanced.equations.loihi_fire`)."""

import numpy as np
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType

from lava_balanced import equations as eq
from lava_balanced.lava_models import StepMixin, model_pair
from lava_balanced.processes.cubalif.process import CubaLIFLayer


class _CubaLIFBookkeeping(StepMixin):
    """What both number formats share: rest at each sample's first step, the
    spike count and potential sum of the sample, and the trace for the
    readout at its last step. Subclasses give ``_rest()`` and
    ``_update(a_in) -> (spikes, v)``."""

    def _step(self):
        _, tau = self._sched.position(self._t)
        if tau == 0:  # each sample starts at rest
            self._rest()
            self._count = np.zeros(self.v.shape, dtype=np.int64)
            self._vsum = None
        s, v = self._update(self.a_in.recv())
        s = s.view(np.int8)
        self.s_out.send(s)
        self._count += s
        self._vsum = v.copy() if self._vsum is None else self._vsum + v
        if tau == self._sched.t_free - 1:
            n = self._sched.t_free
            self.trace_out.send(np.stack((self._count / n, self._vsum / n)))


class _CubaLIFStep(_CubaLIFBookkeeping):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int8)
    trace_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    i: np.ndarray = LavaPyType(np.ndarray, float)
    v: np.ndarray = LavaPyType(np.ndarray, float)

    def _setup(self):
        self._p = self.proc_params["params"]
        self._sched = self.proc_params["schedule"]

    def _rest(self):
        self.i[:] = 0.0
        self.v[:] = self._p["v_leak"]

    def _update(self, a_in):
        p = self._p
        i = eq.cuba_current_step(self.i, a_in, p["decay_syn"])
        v = eq.cuba_membrane_step(self.v, i, p["decay_mem"], p["gain"], p["v_leak"])
        s, v = eq.fire_above(v, p["v_th"], p["v_reset"])
        self.i[:] = i
        self.v[:] = v
        return s, v


PyCubaLIFModel, PyCubaLIFModelAsync = model_pair(_CubaLIFStep, CubaLIFLayer, "PyCubaLIFModel")


class _CubaLIFFixedStep(_CubaLIFBookkeeping):
    """Loihi's integer CUBA neuron, per neuron ``du, dv`` (12-bit),
    ``vth_mant`` (17-bit), ``bias_mant << bias_exp``; ``u`` wraps at 24
    bits, ``v`` is clipped to 24 bits and reset to 0. State returns to 0 at
    the first step of each sample. At the last step of a sample it sends the
    spike rate and the mean of the integer ``v`` (what the readout needs;
    :meth:`lava_balanced.exporters.loihi.LoihiNet.run_reference` computes the
    same numbers)."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int8)
    trace_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    i: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    v: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)

    def _setup(self):
        p = self.proc_params["params"]
        missing = {"du", "dv", "vth_mant", "bias_mant", "bias_exp"} - set(p)
        if missing:
            raise ValueError(f"the fixed_pt CubaLIFLayer needs integer parameters; missing {sorted(missing)} "
                             "(quantise the network with lava_balanced.exporters.loihi.quantize)")
        self._du = np.asarray(p["du"], dtype=np.int64)
        self._dv = np.asarray(p["dv"], dtype=np.int64)
        self._vth = np.asarray(p["vth_mant"], dtype=np.int64)
        self._bias = eq.loihi_bias(p["bias_mant"], p["bias_exp"])
        self._sched = self.proc_params["schedule"]
        self._u = np.zeros(self.i.shape, dtype=np.int64)
        self._v = np.zeros(self.v.shape, dtype=np.int64)

    def _rest(self):
        self._u[:] = 0
        self._v[:] = 0

    def _update(self, a_in):
        u = eq.loihi_current_step(self._u, a_in, self._du)
        v = eq.loihi_membrane_step(self._v, u, self._dv, self._bias)
        s, v = eq.loihi_fire(v, self._vth)
        self._u, self._v = u, v
        self.i[:] = u
        self.v[:] = v
        return s, v


PyCubaLIFModelFixed, PyCubaLIFModelFixedAsync = model_pair(
    _CubaLIFFixedStep, CubaLIFLayer, "PyCubaLIFModelFixed", tags=("fixed_pt", "fixed_pt_async"))
