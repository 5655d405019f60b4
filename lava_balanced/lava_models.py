"""Turn one per-step implementation into the two CPU ProcessModels every
lava-balanced Process has.

Each Process's ``models.py`` writes its step once, in a mixin with a
``_step()`` method (and the LavaPyType declarations of its ports and Vars).
:func:`model_pair` derives from it

* a ``LoihiProtocol`` model tagged ``floating_pt``: Lava's standard
  synchronous execution, ``run_spk`` calls ``_step()`` once per time step;
* an ``AsyncProtocol`` model tagged ``floating_pt_async``: ``run_async``
  calls ``_step()`` for the requested number of steps, with the processes
  kept in lock-step by their channels alone. It skips the runtime's per-phase
  handshakes with every process, which dominate the cost of a step on a small
  machine (see ``benchmarks/``), and computes exactly the same thing.

Select one with ``Loihi2SimCfg(select_tag=...)``.
"""

from __future__ import annotations

from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyAsyncProcessModel, PyLoihiProcessModel
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.async_protocol import AsyncProtocol
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from .runner import record_model_error

__all__ = ["model_pair", "StepMixin", "TAG_SYNC", "TAG_ASYNC"]

TAG_SYNC = "floating_pt"
TAG_ASYNC = "floating_pt_async"


def _single_threaded_blas() -> None:
    """Each Lava process is one OS process on a machine with few cores: BLAS
    threads inside each would only compete with the other processes."""
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
    except Exception:  # pragma: no cover - threadpoolctl missing or unsupported
        pass


class StepMixin:
    """Base of the per-process mixins: lazy set-up (Vars are assigned by
    Lava's builder after ``__init__``) and a step counter ``_t`` (0-based,
    continued across ``run`` calls)."""

    _ready = False

    def _setup(self) -> None:  # pragma: no cover - overridden
        pass

    def _step(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _advance(self) -> None:
        try:
            if not self._ready:
                _single_threaded_blas()
                self._t = 0
                self._setup()
                self._ready = True
            self._step()
        except BaseException as exc:
            # Lava would hang on this exception; the runner is told at once
            record_model_error(exc)
            raise
        self._t += 1


def _run_spk(self):
    self._advance()


def _run_async(self):
    for _ in range(self.num_steps):
        self._advance()


def model_pair(mixin, proc, name: str, tags=(TAG_SYNC, TAG_ASYNC)):
    """Return ``(LoihiModel, AsyncModel)`` for ``proc`` built on ``mixin``,
    tagged ``tags = (sync_tag, async_tag)`` (default ``floating_pt`` and
    ``floating_pt_async``; the integer models use ``fixed_pt``)."""
    sync_tag, async_tag = tags
    loihi = type(name, (mixin, PyLoihiProcessModel),
                 {"run_spk": _run_spk, "__module__": mixin.__module__, "__qualname__": name})
    loihi = tag(sync_tag)(requires(CPU)(implements(proc=proc, protocol=LoihiProtocol)(loihi)))
    async_name = name + "Async"
    asyn = type(async_name, (mixin, PyAsyncProcessModel),
                {"run_async": _run_async, "__module__": mixin.__module__, "__qualname__": async_name})
    asyn = tag(async_tag)(requires(CPU)(implements(proc=proc, protocol=AsyncProtocol)(asyn)))
    return loihi, asyn
