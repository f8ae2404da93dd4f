"""Group commit within a process (engagement/group_commit.py): the writes of threads that
arrive while a batch runs are run together in the next, each thread gets its own outcome, and
a failure is each of its batch's."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from engagement.group_commit import GroupCommit


class Batches:
    """A batch runner that records its batches, and holds the first until `waiting` writes
    wait for the next, so that what each batch holds does not depend on timing."""

    def __init__(self, waiting: int, fail: BaseException | None = None) -> None:
        self.batches: list[list[int]] = []
        self.waiting, self.fail = waiting, fail
        self.group: GroupCommit | None = None

    def run(self, writes: list[int]) -> list[int]:
        self.batches.append(list(writes))
        if len(self.batches) == 1:
            deadline = time.monotonic() + 10
            while len(self.group._waiting) < self.waiting and time.monotonic() < deadline:
                time.sleep(0.001)
            if self.fail is not None:
                raise self.fail
        return [write * 10 for write in writes]


def submitted(batches: Batches, writes: list[int]) -> list:
    """Each write's outcome or error, the others submitted once the first's batch runs."""
    group = batches.group

    def submit(write):
        try:
            return group.submit(write)
        except Exception as error:
            return error

    with ThreadPoolExecutor(len(writes)) as pool:
        first = pool.submit(submit, writes[0])
        while not batches.batches:
            time.sleep(0.001)
        rest = [pool.submit(submit, write) for write in writes[1:]]
        return [first.result(timeout=30)] + [future.result(timeout=30) for future in rest]


def test_writes_that_arrive_during_a_batch_are_run_together_in_the_next():
    batches = Batches(waiting=7)
    batches.group = GroupCommit(batches.run, lambda batch, write: True, most=32)

    outcomes = submitted(batches, list(range(8)))

    assert outcomes == [write * 10 for write in range(8)]  # each its own
    assert batches.batches[0] == [0]
    assert sorted(batches.batches[1]) == list(range(1, 8))
    assert len(batches.batches) == 2


def test_a_write_the_batch_does_not_admit_and_those_past_the_most_wait_for_the_next():
    batches = Batches(waiting=7)
    # An even write does not go with another even one: at most one per batch.
    batches.group = GroupCommit(
        batches.run, lambda batch, write: write % 2 or all(other % 2 for other in batch),
        most=3)

    outcomes = submitted(batches, list(range(8)))

    assert outcomes == [write * 10 for write in range(8)]
    assert sorted(write for batch in batches.batches for write in batch) == list(range(8))
    for batch in batches.batches:
        assert len(batch) <= 3
        assert len([write for write in batch if write % 2 == 0]) <= 1
    assert len(batches.batches) >= 4  # 4 even writes, one a batch


def test_a_failed_batch_fails_each_of_its_writes_and_the_next_batch_runs():
    batches = Batches(waiting=3, fail=RuntimeError("the batch failed"))
    batches.group = GroupCommit(batches.run, lambda batch, write: True, most=32)

    outcomes = submitted(batches, list(range(4)))

    assert isinstance(outcomes[0], RuntimeError)
    assert outcomes[1:] == [10, 20, 30]  # run by the next batch, not failed with the first


def test_a_shared_failure_fails_the_writes_waiting_for_the_next_batch_too():
    batches = Batches(waiting=3, fail=ConnectionError("the database does not answer"))
    batches.group = GroupCommit(batches.run, lambda batch, write: True, most=32,
                                shared_failures=(ConnectionError,))

    outcomes = submitted(batches, list(range(4)))

    assert all(isinstance(outcome, ConnectionError) for outcome in outcomes)
    assert batches.batches == [[0]]  # nothing more was tried
    assert batches.group.submit(5) == 50  # and the next write leads a batch of its own


@pytest.mark.parametrize("threads", [1, 8])
def test_every_write_gets_its_outcome_under_load(threads):
    ran = []
    lock = threading.Lock()

    def run(writes):
        with lock:
            ran.extend(writes)
        return [-write for write in writes]

    group = GroupCommit(run, lambda batch, write: True, most=4)
    with ThreadPoolExecutor(threads) as pool:
        outcomes = list(pool.map(group.submit, range(500)))

    assert outcomes == [-write for write in range(500)]
    assert sorted(ran) == list(range(500))
