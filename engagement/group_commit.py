"""Group commit within a process: the writes its threads make at the same moment, committed
in one transaction. The first thread to arrive leads: it runs the writes waiting then (its
own first) as one batch, and every thread of the batch gets its own outcome once the batch
has returned, that is, once its commit has. Threads arriving meanwhile wait for the next
batch, which the next of them leads, so that no thread waits for more than the batch under
way and its own. With one thread at a time, a batch is that thread's write alone."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Write = TypeVar("Write")
Outcome = TypeVar("Outcome")


class _Waiting(Generic[Write, Outcome]):
    __slots__ = ("write", "done", "leads", "outcome", "error")

    def __init__(self, write: Write) -> None:
        self.write = write
        self.done = threading.Event()
        self.leads = False
        self.outcome: Outcome | None = None
        self.error: BaseException | None = None


class GroupCommit(Generic[Write, Outcome]):
    """`run(writes)` runs a batch and returns each write's outcome, in order, once it is
    committed; what it raises is raised to every thread of the batch. `admits(batch, write)`
    says whether a write may join a batch (one it conflicts with waits for the next); at most
    `most` writes make a batch. A batch that fails with one of `shared_failures` (a database
    that does not answer) fails the writes waiting then too, rather than have each batch
    wait for it in turn."""

    def __init__(self, run: Callable[[list[Write]], Sequence[Outcome]],
                 admits: Callable[[list[Write], Write], bool], most: int,
                 shared_failures: tuple[type[BaseException], ...] = ()) -> None:
        self._run, self._admits, self._most = run, admits, most
        self._shared_failures = shared_failures
        self._lock = threading.Lock()
        self._waiting: list[_Waiting[Write, Outcome]] = []
        self._led = False  # a thread is running a batch, or about to

    def submit(self, write: Write) -> Outcome:
        """The write's outcome, once committed with those of its batch."""
        mine: _Waiting[Write, Outcome] = _Waiting(write)
        with self._lock:
            self._waiting.append(mine)
            mine.leads = not self._led
            self._led = True
        if not mine.leads:
            mine.done.wait()
        if mine.leads:  # first to come, or handed the next batch
            self._lead()
        if mine.error is not None:
            raise mine.error
        return mine.outcome

    def _lead(self) -> None:
        with self._lock:
            batch, later = [], []
            for waiting in self._waiting:  # the leader's own first
                writes = [taken.write for taken in batch]
                if len(batch) < self._most and self._admits(writes, waiting.write):
                    batch.append(waiting)
                else:
                    later.append(waiting)
            self._waiting = later
        try:
            outcomes = self._run([waiting.write for waiting in batch])
            for waiting, outcome in zip(batch, outcomes, strict=True):
                waiting.outcome = outcome
        except BaseException as error:  # every write of the batch failed with it
            with self._lock:
                if isinstance(error, self._shared_failures):
                    batch += self._waiting
                    self._waiting = []
            for waiting in batch:
                waiting.error = error
        finally:
            with self._lock:
                if self._waiting:
                    self._waiting[0].leads = True
                    self._waiting[0].done.set()
                else:
                    self._led = False
            for waiting in batch:
                waiting.done.set()
