"""A worker asked to stop leaves its loop at once when it holds nothing, whenever the stop arrives."""

from __future__ import annotations

import threading
from functools import partial
from typing import Any

from kalem.store.uow import UnitOfWork
from kalem.webhooks.worker import Worker, WorkerConfig


class StopJustBeforeClear(threading.Event):
    """The loop's wake-up, with a stop that arrives right before the loop first clears it: after the
    loop found no stop, before it waits."""

    def __init__(self, worker: Worker) -> None:
        super().__init__()
        self.worker = worker
        self.stopped_here = False

    def clear(self) -> None:
        if not self.stopped_here:
            self.stopped_here = True
            self.worker.stop()
        super().clear()


def test_a_stop_between_the_loop_check_and_the_clear_is_not_missed(server: Any) -> None:
    worker = Worker(partial(UnitOfWork, server.db), WorkerConfig(poll_seconds=60, concurrency=1))  # no NOTIFY
    worker._nudged = worker._held._ready = StopJustBeforeClear(worker)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        thread.join(10)   # the next poll is a minute away: only the stop itself can end the loop
        assert worker._nudged.stopped_here
        assert not thread.is_alive()
    finally:
        worker.stop()
        thread.join(60)
        worker.close()
