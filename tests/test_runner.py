"""The runner surfaces model exceptions, enforces timeouts and leaves nothing
behind."""

import os
import time
from pathlib import Path

import pytest
from lava.magma.core.run_conditions import RunSteps

from lava_balanced.lava_models import TAG_ASYNC, TAG_SYNC
from lava_balanced.network import run_config
from lava_balanced.runner import LavaRunError, LavaTimeout, run_isolated
from tests.lava_faulty.process import Faulty

pytestmark = pytest.mark.timeout(180)


def _shm():
    return {p.name for p in Path("/dev/shm").iterdir() if p.name.startswith(("psm_", "sem.mp-"))}


def _children():
    """PIDs of this test process's live descendants."""
    me = os.getpid()
    kids = set()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        state = stat.rsplit(")", 1)[1].split()[0]
        if ppid == me and state != "Z":
            kids.add(int(d.name))
    return kids


def _faulty_chain_job(tag, fail_at, report):
    # a -> b -> c -> a: the failing process sits in the middle of the chain
    procs = [Faulty(fail_at=fail_at if i == 1 else 0) for i in range(3)]
    for i in range(3):
        procs[i].s_out.connect(procs[(i + 1) % 3].s_in)
    try:
        procs[0].run(condition=RunSteps(50), run_cfg=run_config(tag))
        return "finished"
    finally:
        procs[0].stop()


@pytest.mark.parametrize("tag", [TAG_SYNC, TAG_ASYNC])
def test_model_exception_is_surfaced_without_hanging(tag):
    before_shm, before_kids = _shm(), _children()
    t0 = time.monotonic()
    with pytest.raises(LavaRunError, match="deliberate failure at step 7"):
        run_isolated(_faulty_chain_job, tag, 7, timeout=120)
    assert time.monotonic() - t0 < 60
    assert _children() <= before_kids
    assert _shm() <= before_shm


def test_healthy_run_returns_its_result():
    before_shm = _shm()
    assert run_isolated(_faulty_chain_job, TAG_ASYNC, 0, timeout=120) == "finished"
    assert _shm() <= before_shm


def _sleepy_job(report):
    time.sleep(600)


def test_timeout_kills_the_job():
    t0 = time.monotonic()
    with pytest.raises(LavaTimeout, match="timeout of 2 s"):
        run_isolated(_sleepy_job, timeout=2)
    assert time.monotonic() - t0 < 20


def _failing_job(report):
    report({"step": 1})
    raise KeyError("missing thing")


def test_job_exception_keeps_its_type_and_progress_arrives():
    seen = []
    with pytest.raises(KeyError, match="missing thing"):
        run_isolated(_failing_job, timeout=30, on_progress=seen.append)
    assert seen == [{"step": 1}]
