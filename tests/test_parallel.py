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


def test_split_weighted_keeps_order_and_balances_the_weight():
    from exporter.core.workers import split_weighted

    items = [5, 1, 1, 1, 1, 1, 5, 1, 1, 1, 1, 1]
    runs = split_weighted(items, 2, float)
    assert [x for run in runs for x in run] == items
    assert [sum(run) for run in runs] == [10, 10]
    # work the first run does besides its items moves items to the others
    runs = split_weighted(items, 2, float, first=4.0)
    assert [sum(run) for run in runs] == [8, 12]
    assert split_weighted([9, 1, 1], 3, float) == [[9], [1], [1]]  # none empty
    assert split_weighted([1, 1], 3, float) == [[1], [1]]
    assert split_weighted([], 2, float) == []


def test_deal_spreads_the_heaviest_items_and_keeps_each_groups_order():
    from exporter.core.workers import deal

    items = ["aaaaaa", "b", "cccccc", "d", "ee", "ff"]
    groups = deal(items, 2, len)
    assert sorted(x for group in groups for x in group) == sorted(items)
    assert [sum(map(len, group)) for group in groups] == [9, 9]
    assert groups[0] == ["aaaaaa", "b", "ee"]
    assert all(group == sorted(group, key=items.index) for group in groups)
    assert deal(["x"], 3, len) == [["x"]]


def _refuse() -> None:
    raise ValueError("cannot be rebuilt")


class Unreadable:
    """Pickles, but raises when unpickled (as a result cut off by a killed worker does)."""

    def __reduce__(self):
        return (_refuse, ())


def test_a_worker_result_that_cannot_be_read_is_reported():
    with pytest.raises(RuntimeError, match="died"):
        fork_map(lambda chunk: Unreadable() if chunk == [2] else chunk, [[1], [2]])
