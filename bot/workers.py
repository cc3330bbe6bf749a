"""Run many small I/O-bound tasks on a bounded number of threads.

`run_all(tasks, workers)` is what `ThreadPoolExecutor` + `submit` + `result` would do for a
batch, minus two costs that dominate a poll of a few components: `threading.Thread.start()`
blocks until the new thread has been scheduled and has signalled back (about 1 ms per thread
on a busy 2-core runner, paid one after the other), and the calling thread sits idle. Here
the threads are started without that hand-shake (`_thread.start_new_thread`, the documented
low-level API) and the calling thread takes tasks too. Completion is awaited explicitly, and
the first exception a task raised is re-raised in the caller (a bug, not an upstream failure:
tasks turn those into values).
"""

from __future__ import annotations

import _thread
import threading
from collections import deque
from collections.abc import Callable, Sequence


def run_all(tasks: Sequence[Callable[[], None]], workers: int) -> None:
    """Run every task, at most `workers` at a time (the caller's thread is one of them);
    return when all are done; re-raise the first exception any of them raised."""
    queue = deque(tasks)
    errors: list[BaseException] = []
    helpers = max(0, min(workers, len(tasks)) - 1)
    finished = threading.Semaphore(0)

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

    def helper() -> None:
        try:
            work()
        finally:
            finished.release()

    for _ in range(helpers):
        _thread.start_new_thread(helper, ())
    work()
    for _ in range(helpers):
        finished.acquire()
    if errors:
        raise errors[0]
