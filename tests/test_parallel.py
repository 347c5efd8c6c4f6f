"""The bounded pool map that PII scans and verification share."""

from __future__ import annotations

import os

from strongroom.parallel import pool_map_unordered

_state = {"offset": 0}


def _init(offset: int) -> None:
    _state["offset"] = offset


def _run(batch: list[int]) -> tuple[int, list[int]]:
    return os.getpid(), [n + _state["offset"] for n in batch]


def _batches(count: int) -> list[list[int]]:
    return [[n, n + 1000] for n in range(count)]


def test_every_batch_once_in_worker_processes() -> None:
    results = list(pool_map_unordered(_run, iter(_batches(40)), 2, _init, (7,)))
    assert sorted(r for _pid, rs in results for r in rs) == sorted(
        n + 7 for batch in _batches(40) for n in batch
    )
    assert os.getpid() not in {pid for pid, _rs in results}


def test_one_worker_runs_here_after_the_initializer() -> None:
    results = list(pool_map_unordered(_run, _batches(3), 1, _init, (1,)))
    assert [rs for _pid, rs in results] == [[1, 1001], [2, 1002], [3, 1003]]
    assert {pid for pid, _rs in results} == {os.getpid()}
