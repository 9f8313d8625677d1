"""The sample marketplace's faults, on a hand-moved clock: down periods that end by themselves
and are added up, planned ones, and failures drawn from a seed."""

from __future__ import annotations

from sentoffers.sandbox.marketplace.guard import FAILURE_STATUSES, Faults
from tests.support.sandbox import FakeClock


def test_a_down_period_ends_by_itself_and_its_length_is_added_up() -> None:
    clock = FakeClock()
    faults = Faults(clock)
    faults.down_for(10)
    clock.advance(4)
    assert (faults.down_remaining(), faults.down_seconds()) == (6, 4)
    clock.advance(100)
    assert (faults.down_remaining(), faults.down_seconds(), faults.down_periods()) == (
        None,
        10,
        1,
    )


def test_a_new_period_replaces_the_current_one_and_up_ends_it() -> None:
    clock = FakeClock()
    faults = Faults(clock)
    faults.down_for(10)
    clock.advance(3)
    faults.down_for(5)  # counted from now: 3 s of the first, then the second
    clock.advance(2)
    assert (faults.down_remaining(), faults.down_seconds()) == (3, 5)
    faults.up()
    clock.advance(50)
    assert (faults.down_remaining(), faults.down_seconds(), faults.down_periods()) == (
        None,
        5,
        2,
    )


def test_a_planned_period_starts_later_and_up_cancels_it() -> None:
    clock = FakeClock()
    faults = Faults(clock)
    faults.down_for(2, after=5)
    assert (faults.down_remaining(), faults.down_starts_in()) == (None, 5)
    clock.advance(5)
    assert (faults.down_remaining(), faults.down_starts_in()) == (2, None)
    clock.advance(2)
    faults.down_for(2, after=5)
    faults.up()
    clock.advance(6)
    assert (faults.down_remaining(), faults.down_seconds()) == (None, 2)


def test_failures_and_lost_answers_follow_their_rates_and_seed() -> None:
    def draws(seed: int) -> list[int | None]:
        faults = Faults(FakeClock(), failure_rate=0.3, lost_answer_rate=0.5, seed=seed)
        return [faults.failure() for _ in range(50)] + [faults.lost_answer() for _ in range(50)]

    first = draws(3)
    assert first == draws(3)
    assert 0 < sum(status is not None for status in first[:50]) < 30
    assert 10 < sum(status is not None for status in first[50:]) < 40
    assert {status for status in first if status is not None} <= set(FAILURE_STATUSES)
    quiet = Faults(FakeClock())
    assert [quiet.failure() for _ in range(20)] == [None] * 20
    assert [quiet.lost_answer() for _ in range(20)] == [None] * 20
