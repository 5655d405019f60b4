"""A Process whose model raises at a chosen step: the runner's test subject.
(This folder holds only side-effect-free modules: Lava executes them all.)"""

from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess


class Faulty(AbstractProcess):
    """Passes (1,) messages through and raises ``ValueError`` at step
    ``fail_at`` (never if 0)."""

    def __init__(self, *, fail_at: int = 0, **kwargs):
        super().__init__(fail_at=fail_at, **kwargs)
        self.s_in = InPort(shape=(1,))
        self.s_out = OutPort(shape=(1,))
