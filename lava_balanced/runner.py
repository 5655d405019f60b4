"""The one way lava-balanced runs Lava: isolated, time-limited, and clean.

Lava 0.10 has failure modes that would hang a program: a ProcessModel that
raises makes ``run()`` or ``stop()`` wait forever, a network never stopped
hangs the interpreter at exit, and killing only the parent process orphans the
actor processes and leaks their shared memory. :func:`run_isolated` therefore
runs a job (a function that builds, runs and stops Lava networks) in a forked
child process that leads its own process group, and

* returns the job's return value (pickled through a pipe), forwarding the
  job's progress messages to a callback;
* surfaces an exception raised in the job, or in any Lava ProcessModel (their
  step wrapper records it, see :class:`lava_balanced.lava_models.StepMixin`),
  as :class:`LavaRunError` carrying the original type, message and traceback,
  as soon as it happens;
* enforces a timeout;
* always ends by killing the whole process group and removing the shared
  memory segments the run created, so nothing is left behind.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import shutil
import signal
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Optional

__all__ = ["LavaRunError", "LavaTimeout", "run_isolated", "ERROR_DIR_ENV", "record_model_error"]

ERROR_DIR_ENV = "LAVA_BALANCED_ERROR_DIR"
_SHM_DIR = Path("/dev/shm")
_SHM_PREFIXES = ("psm_", "sem.mp-", "wnsm_")


class LavaRunError(RuntimeError):
    """A Lava run failed; the message holds the original exception and its
    traceback (from the job or from the ProcessModel that raised)."""


class LavaTimeout(LavaRunError):
    """A Lava run did not finish within its timeout and was killed."""


def record_model_error(exc: BaseException) -> None:
    """Called by a ProcessModel that raised: write the traceback where the
    runner of this run looks for it (nothing happens outside a runner)."""
    folder = os.environ.get(ERROR_DIR_ENV)
    if not folder:
        return
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".err-")
    with os.fdopen(fd, "w") as fh:
        fh.write(f"{type(exc).__name__}: {exc}\n\n{text}")
    os.replace(tmp, os.path.join(folder, f"model-{os.getpid()}.err"))


def _shm_entries() -> set:
    try:
        return {p.name for p in _SHM_DIR.iterdir() if p.name.startswith(_SHM_PREFIXES)}
    except OSError:
        return set()


def _child(conn, err_dir: str, fn: Callable, args: tuple, kwargs: dict) -> None:
    os.setsid()  # lead a new process group: the parent can kill the whole tree
    os.environ[ERROR_DIR_ENV] = err_dir

    def report(message: Any) -> None:
        conn.send(("progress", message))

    try:
        result = fn(*args, report=report, **kwargs)
        conn.send(("ok", result))
    except BaseException as exc:  # noqa: BLE001 - everything is reported
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        try:
            conn.send(("error", (type(exc).__name__, str(exc), tb, _picklable(exc))))
        except Exception:  # pragma: no cover - broken pipe
            pass
    finally:
        conn.close()
        os._exit(0)  # skip atexit handlers (Lava's may wait on its actors)


def _picklable(exc: BaseException) -> Optional[bytes]:
    try:
        data = pickle.dumps(exc)
        pickle.loads(data)
        return data
    except Exception:
        return None


def _kill_group(proc: mp.Process) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.join(timeout=10)


def run_isolated(fn: Callable, *args, timeout: float = 600.0,
                 on_progress: Optional[Callable[[Any], None]] = None, **kwargs) -> Any:
    """Run ``fn(*args, report=..., **kwargs)`` in an isolated child process.

    ``fn`` must accept a keyword ``report``: a callable that sends any
    picklable progress message to ``on_progress`` in the parent. Returns what
    ``fn`` returns. Raises :class:`LavaRunError` (or re-raises the job's own
    exception type where it is picklable, with the remote traceback attached
    as a note in the message) and :class:`LavaTimeout` after ``timeout``
    seconds. Never leaves processes or shared memory behind.
    """
    ctx = mp.get_context("fork")
    parent_conn, child_conn = ctx.Pipe(duplex=False)
    err_dir = tempfile.mkdtemp(prefix="lava-balanced-err-")
    shm_before = _shm_entries()
    proc = ctx.Process(target=_child, args=(child_conn, err_dir, fn, args, kwargs), daemon=False)
    proc.start()
    child_conn.close()
    deadline = time.monotonic() + timeout
    outcome = None
    try:
        while outcome is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LavaTimeout(f"Lava run exceeded its timeout of {timeout:.0f} s and was killed")
            if parent_conn.poll(min(0.2, remaining)):
                try:
                    kind, payload = parent_conn.recv()
                except EOFError:
                    outcome = ("died", None)
                    break
                if kind == "progress":
                    if on_progress is not None:
                        on_progress(payload)
                    continue
                outcome = (kind, payload)
                break
            errors = sorted(Path(err_dir).glob("model-*.err"))
            if errors:
                text = errors[0].read_text()
                raise LavaRunError(f"a Lava ProcessModel raised {text}")
            if not proc.is_alive() and not parent_conn.poll(0):
                outcome = ("died", None)
        kind, payload = outcome
        if kind == "ok":
            return payload
        if kind == "error":
            name, message, tb, blob = payload
            if blob is not None:
                exc = pickle.loads(blob)
                if not isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise exc from LavaRunError(f"raised in the Lava job:\n{tb}")
            raise LavaRunError(f"{name}: {message}\n{tb}")
        errors = sorted(Path(err_dir).glob("model-*.err"))
        if errors:
            raise LavaRunError(f"a Lava ProcessModel raised {errors[0].read_text()}")
        raise LavaRunError(f"the Lava job died (exit code {proc.exitcode}) without reporting a result")
    finally:
        _kill_group(proc)
        parent_conn.close()
        for name in _shm_entries() - shm_before:
            try:
                (_SHM_DIR / name).unlink()
            except OSError:
                pass
        shutil.rmtree(err_dir, ignore_errors=True)
