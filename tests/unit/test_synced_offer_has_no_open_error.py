"""A Synced offer never has an open error, whatever the history of interactions and logs.

The offer list filtered by open errors relies on it (``STATUSES_WITH_OPEN_ERRORS``): its
Synced tab is empty by rule, not by a search."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from sentoffers.domain.model import (
    STATUSES_WITH_OPEN_ERRORS,
    Context,
    DataStatus,
    Interaction,
    Offer,
    OfferStatus,
    Origin,
    Source,
)
from sentoffers.domain.rules import (
    append_log,
    close_interaction,
    create_offer,
    open_interaction,
)
from tests.unit.factories import (
    at,
    failure_log,
    make_error,
    make_interaction,
    notification_log,
    success_log,
)

CODES = {
    Origin.CATALOG: "CTLG-005",
    Origin.PRICE: "PRICE-001",
    Origin.INVENTORY: "INVNT-001",
}


@dataclass(frozen=True)
class Step:
    """One interaction: its kind, its logs (a kind and a status or an error's origins) and
    whether it is closed."""

    origin: Origin
    context: Context
    source: Source
    logs: tuple[tuple[str, DataStatus | None, Origin, tuple[Origin, ...]], ...]
    closed: bool


steps = st.builds(
    Step,
    origin=st.sampled_from(Origin),
    context=st.sampled_from(Context),
    source=st.sampled_from(Source),
    logs=st.lists(
        st.tuples(
            st.sampled_from(["success", "failure", "information"]),
            st.none() | st.sampled_from(DataStatus),
            st.sampled_from(Origin),
            st.lists(st.sampled_from(Origin), max_size=2, unique=True).map(tuple),
        ),
        max_size=3,
    ).map(tuple),
    closed=st.booleans(),
)


def assert_rule_holds(offer: Offer) -> None:
    if offer.open_errors:
        assert offer.status in STATUSES_WITH_OPEN_ERRORS, (offer.status, offer.open_errors)
    if offer.status == OfferStatus.SYNCED:
        assert not offer.open_errors


def play(
    history: list[Step],
    after_each: Callable[[Offer], None],
    after_close: Callable[[Offer, Interaction], None] | None = None,
    *,
    close_all: bool = False,
) -> None:
    """Run ``history`` through the rules, calling back after each step and each close."""
    offer: Offer | None = None
    minute = 0
    for n, step in enumerate(history):
        minute += 1
        interaction = make_interaction(
            id=f"{n:032d}", origin=step.origin, context=step.context, source=step.source,
            start_date=at(minute),
        )  # fmt: skip
        if offer is None:
            offer, _ = create_offer(interaction, at(minute))
        else:
            open_interaction(offer, interaction, at(minute))
        after_each(offer)
        for i, (kind, status, error_origin, closable) in enumerate(step.logs):
            minute += 1
            log_id = f"L{n}-{i}"
            if kind == "success":
                log = success_log(id=log_id, status=status, date=at(minute))
            elif kind == "information":
                log = notification_log(id=log_id, status=status, date=at(minute))
            else:
                error = make_error(CODES[error_origin], closable_origins=closable)
                log = failure_log(error, id=log_id, date=at(minute))
            append_log(offer, interaction, log, at(minute))
            after_each(offer)
        if step.closed or close_all:
            minute += 1
            close_interaction(offer, interaction, at(minute))
            after_each(offer)
            if after_close is not None:
                after_close(offer, interaction)


@settings(max_examples=300, deadline=None)
@given(st.lists(steps, min_size=1, max_size=8))
def test_a_synced_offer_never_has_an_open_error(history: list[Step]) -> None:
    play(history, assert_rule_holds)


def assert_stated_synced_decides(offer: Offer, closed: Interaction) -> None:
    if closed.data.status == DataStatus.SYNCED:
        expected = OfferStatus.ERROR if offer.open_errors else OfferStatus.SYNCED
        assert offer.status == expected, (offer.status, offer.open_errors)


@settings(max_examples=300, deadline=None)
@given(st.lists(steps, min_size=1, max_size=8))
def test_a_close_stating_synced_ends_synced_exactly_when_no_error_is_left(
    history: list[Step],
) -> None:
    play(history, assert_rule_holds, assert_stated_synced_decides, close_all=True)
