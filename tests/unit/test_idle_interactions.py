"""Interactions left open with no new log are closed by the service after an idle time."""

from __future__ import annotations

import re
from datetime import timedelta

from sentoffers.domain.model import LogType, OfferStatus, Result
from sentoffers.domain.rules import (
    DEFAULT_IDLE_TIMEOUT,
    append_log,
    close_interaction,
    idle_close_log,
    is_idle,
)
from tests.unit.factories import at, make_interaction, make_offer, notification_log

SECOND = timedelta(seconds=1)


def test_default_idle_timeout_is_24_hours() -> None:
    assert timedelta(hours=24) == DEFAULT_IDLE_TIMEOUT


def test_idle_interaction_is_detected_after_the_timeout() -> None:
    interaction = make_interaction(start_date=at(0))

    assert is_idle(interaction, at(hours=24) + SECOND, DEFAULT_IDLE_TIMEOUT) is True


def test_idle_interaction_is_not_detected_before_the_timeout() -> None:
    interaction = make_interaction(start_date=at(0))

    assert is_idle(interaction, at(hours=23), DEFAULT_IDLE_TIMEOUT) is False
    assert is_idle(interaction, at(hours=24), DEFAULT_IDLE_TIMEOUT) is False


def test_idle_time_counts_from_the_last_log() -> None:
    offer = make_offer()
    interaction = make_interaction(start_date=at(0))
    append_log(offer, interaction, notification_log(), at(hours=20))

    assert interaction.last_activity_at == at(hours=20)
    assert is_idle(interaction, at(hours=30), DEFAULT_IDLE_TIMEOUT) is False
    assert is_idle(interaction, at(hours=44) + SECOND, DEFAULT_IDLE_TIMEOUT) is True


def test_idle_time_is_configurable() -> None:
    interaction = make_interaction(start_date=at(0))

    assert is_idle(interaction, at(61), timedelta(hours=1)) is True
    assert is_idle(interaction, at(59), timedelta(hours=1)) is False


def test_closed_interaction_is_never_idle() -> None:
    interaction = make_interaction(start_date=at(0))
    close_interaction(make_offer(), interaction, at(1))

    assert is_idle(interaction, at(hours=100), DEFAULT_IDLE_TIMEOUT) is False


def test_idle_close_log_is_information_saying_why() -> None:
    interaction = make_interaction(id="I" * 32)

    log = idle_close_log(interaction, at(hours=25), DEFAULT_IDLE_TIMEOUT)

    assert log.type == LogType.INFORMATION
    assert log.interaction_id == "I" * 32
    assert log.date == at(hours=25)
    assert log.agent == "sentoffers"
    assert log.description == (
        "Closed by the service: no new log for more than 24 h. "
        "The connector never closed this interaction."
    )
    assert re.fullmatch(r"[0-9A-F]{32}", log.id)
    assert log.errors == ()


def test_idle_close_log_states_the_configured_timeout() -> None:
    log = idle_close_log(make_interaction(), at(hours=2), timedelta(minutes=90))

    assert "no new log for more than 1.5 h." in log.description


def test_idle_close_of_an_interaction_without_result_logs_is_a_notification() -> None:
    offer = make_offer(OfferStatus.SYNCED)
    interaction = make_interaction(start_date=at(0))
    now = at(hours=25)
    append_log(offer, interaction, idle_close_log(interaction, now, DEFAULT_IDLE_TIMEOUT), now)

    close_interaction(offer, interaction, now)

    assert interaction.result == Result.NOTIFICATION
    assert offer.status == OfferStatus.SYNCED
