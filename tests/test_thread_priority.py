"""The render worker asks for a real-time (or higher) priority, and gets what it reports."""

from __future__ import annotations

import os
import threading

import pytest

from latentscore.thread_priority import FIFO_PRIORITY, NICE, raise_current_thread


@pytest.mark.skipif(not hasattr(os, "sched_getscheduler"), reason="Linux scheduling API")
def test_reported_priority_is_the_one_in_force_for_that_thread_only() -> None:
    seen: dict[str, object] = {}

    def worker() -> None:
        seen["got"] = raise_current_thread()
        seen["policy"] = os.sched_getscheduler(0)
        seen["param"] = os.sched_getparam(0).sched_priority
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    got = seen["got"]
    if got.startswith("SCHED_FIFO"):
        assert seen["policy"] == os.SCHED_FIFO and seen["param"] == FIFO_PRIORITY
    elif got.startswith("nice"):
        assert seen["nice"] == NICE
    else:
        assert got == "unchanged"
    if _can_sys_nice():  # root with CAP_SYS_NICE (CI) is always granted real time
        assert got == f"SCHED_FIFO {FIFO_PRIORITY}"
    # the calling (main) thread is untouched
    assert os.sched_getscheduler(0) == os.SCHED_OTHER


def _can_sys_nice() -> bool:
    """Has this process CAP_SYS_NICE (bit 23 of its effective capabilities)?"""
    try:
        with open("/proc/self/status") as f:
            caps = next(line for line in f if line.startswith("CapEff:"))
    except (OSError, StopIteration):
        return False
    return bool(int(caps.split()[1], 16) >> 23 & 1)
