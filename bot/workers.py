"""Run many small I/O-bound tasks on a bounded number of threads, started as they are needed.

`run_all(tasks, workers)` is what `ThreadPoolExecutor` + `submit` + `result` would do for a
batch, minus the costs that dominate a poll of fast upstreams:

- `threading.Thread.start()` blocks until the new thread has been scheduled and has signalled
  back (about 1 ms per thread on a busy 2-core runner, paid one after the other); here threads
  are started without that hand-shake (`_thread.start_new_thread`, the documented low-level
  API), and completion is awaited explicitly.
- Threads beyond what the upstreams need: when answers come back in a millisecond (a CDN
  nearby, 304s, a local mirror), a few threads keep up, and more only add thread switches and
  contention for the GIL, here and in the server. So a batch starts with `START` threads, and
  only when `PATIENCE` seconds pass without any task finishing while tasks wait (the upstreams
  are slow: every thread is waiting on the network) are the rest started, up to `workers`.
  On an internet upstream (tens to hundreds of milliseconds per answer) that costs one
  `PATIENCE` per batch; then the whole bound is in use.

The first exception a task raised is re-raised in the caller (a bug, not an upstream failure:
tasks turn those into values).
"""

from __future__ import annotations

import _thread
import itertools
import threading
from collections import deque
from collections.abc import Callable, Sequence

START = 3  # threads a batch starts with, the caller's included
PATIENCE = 0.01  # seconds with no task finishing (and tasks waiting) before starting the rest


def run_all(tasks: Sequence[Callable[[], None]], workers: int, *, start: int = START,
            patience: float = PATIENCE) -> None:
    """Run every task, at most `workers` at a time (`start` at first, the rest when `patience`
    seconds pass without a task finishing while some wait); return when all are done;
    re-raise the first exception any of them raised."""
    queue = deque(tasks)
    errors: list[BaseException] = []
    limit = max(1, min(workers, len(tasks)))
    finished = itertools.count(1)  # next() is atomic: the number of tasks done so far
    done = [0]  # the last value taken from `finished`
    if not tasks:
        return
    all_done = threading.Event()

    def work() -> None:
        while True:
            try:
                task = queue.popleft()  # atomic: each task is taken by one thread
            except IndexError:
                return
            try:
                task()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                errors.append(exc)
            finally:
                n = next(finished)  # this task's own count: done[0] may be overwritten
                done[0] = n
                if n == len(tasks):
                    all_done.set()

    def watch(started: int) -> None:
        """Wake once per `patience`; start the rest when no task finished in a whole one."""
        seen = 0
        while not all_done.wait(patience):
            if done[0] == seen and queue:  # every thread is stuck on a slow task
                for _ in range(limit - started):
                    _thread.start_new_thread(work, ())
                return
            seen = done[0]

    if limit > 1:
        started = min(max(1, start), limit)  # the caller is one of them
        for _ in range(started - 1):
            _thread.start_new_thread(work, ())
        if started < limit:
            _thread.start_new_thread(watch, (started,))
    work()
    all_done.wait()
    if errors:
        raise errors[0]
