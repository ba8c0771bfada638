"""Forked worker processes (`exporter.core.workers`): order, errors and dead workers."""

from __future__ import annotations

import os

import pytest

from exporter.core.workers import fork_map, split, worker_count


def test_results_come_back_in_order_from_separate_processes():
    results = fork_map(lambda chunk: (os.getpid(), [n * n for n in chunk]), [[1, 2], [3], [4, 5]])
    assert [squares for _, squares in results] == [[1, 4], [9], [16, 25]]
    pids = [pid for pid, _ in results]
    assert pids[0] == os.getpid()
    assert len(set(pids)) == 3


def test_an_exception_in_a_worker_is_raised_in_the_caller():
    def work(chunk: list[int]) -> int:
        if chunk == [2]:
            raise ValueError("bad chunk")
        return chunk[0]

    with pytest.raises(RuntimeError, match="ValueError: bad chunk"):
        fork_map(work, [[1], [2]])


def test_a_worker_that_dies_is_reported():
    def work(chunk: list[int]) -> int:
        if chunk == [2]:
            os._exit(3)
        return chunk[0]

    with pytest.raises(RuntimeError, match="exit code 3"):
        fork_map(work, [[1], [2]])


def test_split_keeps_order_and_balances():
    items = list(range(11))
    runs = split(items, 3)
    assert [x for run in runs for x in run] == items
    assert sorted(len(run) for run in runs) == [3, 4, 4]
    assert split([1], 4) == [[1]]
    assert split([], 2) == []
    cores = os.cpu_count() or 1
    assert worker_count(1) == 1
    assert worker_count(cores) == min(cores, 4)  # a process per job while they fit
    assert worker_count(100) == min(cores, 4)  # many jobs: one process per core
    assert worker_count(100, limit=1) == 1
