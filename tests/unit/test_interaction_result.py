"""Interaction result: processing while open; failure, success or notification on close."""

from __future__ import annotations

import pytest

from sentoffers.domain.errors import Conflict
from sentoffers.domain.model import (
    Context,
    LogType,
    OfferData,
    OfferStatus,
    Origin,
    Result,
    State,
)
from sentoffers.domain.rules import (
    append_log,
    close_interaction,
    create_offer,
    open_interaction,
    result_of_logs,
)
from tests.unit.factories import (
    at,
    failure_log,
    make_error,
    make_interaction,
    make_log,
    make_offer,
    success_log,
)


def test_open_interaction_is_processing() -> None:
    interaction = make_interaction()

    assert interaction.state == State.OPEN
    assert interaction.result == Result.PROCESSING
    assert result_of_logs(interaction.has_failure, interaction.has_success) == Result.NOTIFICATION


def test_close_result_is_failure_if_any_failure_log() -> None:
    offer = make_offer()
    interaction = make_interaction()
    append_log(offer, interaction, success_log(id="L1"), at(1))
    append_log(offer, interaction, failure_log(make_error(), id="L2"), at(2))
    append_log(offer, interaction, success_log(id="L3"), at(3))

    close_interaction(offer, interaction, at(4))

    assert interaction.result == Result.FAILURE


def test_close_result_is_success_if_any_success_log_and_no_failure() -> None:
    offer = make_offer()
    interaction = make_interaction()
    append_log(offer, interaction, make_log(LogType.INFORMATION, id="L1"), at(1))
    append_log(offer, interaction, success_log(id="L2"), at(2))
    append_log(offer, interaction, make_log(LogType.WARNING, id="L3"), at(3))

    close_interaction(offer, interaction, at(4))

    assert interaction.result == Result.SUCCESS


def test_close_result_is_notification_without_success_or_failure() -> None:
    offer = make_offer()
    interaction = make_interaction()
    append_log(offer, interaction, make_log(LogType.INFORMATION, id="L1"), at(1))
    append_log(offer, interaction, make_log(LogType.WARNING, id="L2"), at(2))

    close_interaction(offer, interaction, at(3))

    assert interaction.result == Result.NOTIFICATION


def test_close_result_is_notification_for_an_interaction_without_logs() -> None:
    offer = make_offer()
    interaction = make_interaction()

    close_interaction(offer, interaction, at(1))

    assert interaction.result == Result.NOTIFICATION


def test_close_marks_the_interaction_closed_at_the_close_time() -> None:
    offer = make_offer()
    interaction = make_interaction()

    close_interaction(offer, interaction, at(5))

    assert interaction.state == State.CLOSED
    assert interaction.closed_at == at(5)
    assert offer.updated_at == at(5)


def test_logs_to_a_closed_interaction_are_a_conflict() -> None:
    offer = make_offer()
    interaction = make_interaction(id="C" * 32)
    close_interaction(offer, interaction, at(1))

    with pytest.raises(Conflict, match=r"C{32} is closed") as raised:
        append_log(offer, interaction, failure_log(make_error()), at(2))

    assert raised.value.status_code == 409
    assert raised.value.problems[0].code == "interaction_closed"


def test_log_refused_on_a_closed_interaction_changes_nothing() -> None:
    offer = make_offer(OfferStatus.SYNCED)
    interaction = make_interaction()
    append_log(offer, interaction, success_log(id="L1"), at(1))
    close_interaction(offer, interaction, at(2))

    with pytest.raises(Conflict):
        append_log(offer, interaction, failure_log(make_error(), id="L2"), at(3))

    assert offer.status == OfferStatus.SYNCED
    assert offer.open_errors == []
    assert interaction.result == Result.SUCCESS
    assert interaction.has_failure is False
    assert interaction.last_log_id == "L1"


def test_closing_twice_is_a_conflict() -> None:
    offer = make_offer()
    interaction = make_interaction(id="D" * 32)
    append_log(offer, interaction, success_log(), at(1))
    close_interaction(offer, interaction, at(2))

    with pytest.raises(Conflict, match=r"D{32} is closed") as raised:
        close_interaction(offer, interaction, at(3))

    assert raised.value.status_code == 409
    assert interaction.closed_at == at(2)
    assert interaction.result == Result.SUCCESS


def test_unified_contract_opens_logs_once_and_closes() -> None:
    interaction = make_interaction(id="U" * 32, origin=Origin.PRICE, context=Context.SETUP)
    offer, created = create_offer(interaction, at(0))
    opened = open_interaction(offer, interaction, at(0))
    logged = append_log(
        offer,
        interaction,
        make_log(LogType.SUCCESS, id="L1", data=OfferData(price="124", currency="BRL")),
        at(0),
    )
    closed = close_interaction(offer, interaction, at(0))

    assert interaction.result == Result.SUCCESS
    assert offer.status == OfferStatus.SYNCED
    assert (offer.price, offer.currency) == ("124", "BRL")
    changes = created.status_changes + opened.status_changes + logged.status_changes
    changes += closed.status_changes
    assert [(c.from_status, c.to_status, c.log_id) for c in changes] == [
        (None, OfferStatus.SENDING, None),
        (OfferStatus.SENDING, OfferStatus.SYNCED, "L1"),
    ]
