"""CPU models of :class:`EISynapse` (``floating_pt`` and
``floating_pt_async``)."""

import numpy as np
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType

from lava_balanced import equations as eq
from lava_balanced import kernels as K
from lava_balanced.lava_models import StepMixin, model_pair
from lava_balanced.processes.synapse.process import EISynapse


class _EISynapseStep(StepMixin):
    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int8)
    post_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    err_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    td_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    w: np.ndarray = LavaPyType(np.ndarray, float)
    drive_e: np.ndarray = LavaPyType(np.ndarray, float)
    drive_i: np.ndarray = LavaPyType(np.ndarray, float)
    u: np.ndarray = LavaPyType(np.ndarray, float)
    x: np.ndarray = LavaPyType(np.ndarray, float)

    def _setup(self):
        self._p = self.proc_params["params"]
        self._sched = self.proc_params["schedule"]
        self._sign = self.proc_params["sign"]
        b, n_pre = self.u.shape
        self._td = np.zeros((b, n_pre))
        self._backward = len(self.err_in.csp_ports) > 0

    def _step(self):
        sched = self._sched
        g, tau = sched.position(self._t)
        if sched.phase_start(tau):  # each phase starts at rest
            self.drive_e[:] = 0.0
            self.drive_i[:] = 0.0
            self.u[:] = 0.0
            self.x[:] = 1.0
            self._td = np.zeros_like(self._td)
            self._acc_pre = np.zeros(self.u.shape)
            if tau == 0:
                self._split = eq.split_ei(self.w, self._sign)
        if self._t == 0 and self._backward:  # prime the backward path: feedback_delay
            for _ in range(self._p.feedback_delay - 1):
                self.td_out.send(np.zeros_like(self._td))
        # sent first: the backward path is at least one step late; a term that
        # would reach the next phase goes as zeros (Schedule.top_down_sent)
        sent = sched.top_down_sent(tau, self._p.feedback_delay)
        self.td_out.send(self._td if sent else np.zeros_like(self._td))
        s = self.s_in.recv()
        de, di, u, x = K.synapse_forward(self._split, self.drive_e, self.drive_i, self.u, self.x, s, self._p)
        self.drive_e[:], self.drive_i[:], self.u[:], self.x[:] = de, di, u, x
        self.a_out.send(np.stack((de, di)))
        if self._backward:
            self._td = self.err_in.recv() @ self.w.T
        self._acc_pre += s
        if not sched.learning:
            return
        if not sched.phase_end(tau):
            return
        phase = sched.phase(tau)
        trace = self.post_in.recv()
        # the phase's means of eq. 12: presynaptic rate, postsynaptic V
        means = (self._acc_pre / sched.phase_length(tau), trace[self._p.post_trace])
        if phase == K.FREE:
            self._free = means
        elif phase == K.NUDGED and sched.symmetric:
            self._plus = means
        elif phase == K.NUDGED:
            self.w[:] = K.synapse_learn(self.w, self._sign, *self._free, *means, self._p, g)
        else:  # NUDGED_NEG: the end of a symmetric cycle
            self.w[:] = K.synapse_learn_symmetric(self.w, self._sign, self._free[0], *self._plus, *means,
                                                  self._p, g)


PyEISynapseModel, PyEISynapseModelAsync = model_pair(_EISynapseStep, EISynapse, "PyEISynapseModel")
