"""Batches run in a process pool with a bounded number in flight, results as they finish.

Scans over a whole case (PII, verification) read their batches lazily from the catalog; keeping
only a few per worker in flight bounds memory whatever the size of the case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, TypeVar

B = TypeVar("B")
R = TypeVar("R")

IN_FLIGHT_PER_WORKER = 3


def pool_map_unordered(
    run: Callable[[B], R],
    batches: Iterable[B],
    workers: int,
    initializer: Callable[..., None],
    initargs: tuple[Any, ...] = (),
) -> Iterator[R]:
    """`run(batch)` for every batch, in `workers` processes (in this one when `workers` <= 1,
    after calling `initializer` here), yielding results in the order they finish."""
    pending = iter(batches)
    if workers <= 1:
        initializer(*initargs)
        for batch in pending:
            yield run(batch)
        return
    with ProcessPoolExecutor(
        max_workers=workers, initializer=initializer, initargs=initargs
    ) as pool:
        running: set[Future[R]] = set()
        for batch in pending:
            running.add(pool.submit(run, batch))
            if len(running) >= workers * IN_FLIGHT_PER_WORKER:
                break
        while running:
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                yield future.result()
                following = next(pending, None)
                if following is not None:
                    running.add(pool.submit(run, following))
