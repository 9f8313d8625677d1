"""The SDK's retry policy: the pure functions of ``retry`` and one call's ``Attempts``,
driven with hand-built answers, a clock the test moves and a fixed jitter (no I/O, no sleep).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from sentoffers.client import (
    ConflictError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    TransportError,
)
from sentoffers.client._api import create_interaction, get_offer, update_feed
from sentoffers.client._base import Attempts, BaseClient
from sentoffers.client._operations import Call
from sentoffers.client.retry import backoff, next_delay, parse_retry_after, should_retry

POLICY = RetryPolicy(
    max_attempts=4, backoff_base=0.25, backoff_max=8.0, max_retry_after=60.0, total_timeout=60.0
)
OPENING = {"source": "channel", "origin": "price", "context": "ongoing"}
CREATED = {
    "account": "acme",
    "feedId": "vtex.chaos",
    "skuId": "1",
    "id": "i-1",
    "startDate": "2024-03-01T00:00:00Z",
    "result": "pending",
    "state": "open",
    "source": "channel",
    "origin": "price",
    "context": "ongoing",
}


def errors(code: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "message": f"{code} happened", "field": None}]}


class Clock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def client(
    *,
    retry: RetryPolicy = POLICY,
    idempotency_keys: bool = True,
    clock: Clock | None = None,
    jitter: float = 0.5,
) -> BaseClient:
    return BaseClient(
        "http://sentoffers.test",
        credentials=None,
        timeout=5.0,
        retry=retry,
        idempotency_keys=idempotency_keys,
        user_agent=None,
        clock=clock or Clock(),
        jitter=lambda: jitter,
    )


def opening(key: str | None = None) -> Call[Any]:
    return create_interaction("acme", "vtex.chaos", "1", OPENING, idempotency_key=key)


def answer(status: int, body: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    return httpx.Response(status, json=body, headers=named)


# should_retry ----------------------------------------------------------------------------


@pytest.mark.parametrize("idempotent", [True, False])
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_a_429_is_retried_even_without_an_idempotency_key(method: str, idempotent: bool) -> None:
    assert should_retry(429, method=method, idempotent=idempotent)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_is_retried_for_a_post_with_an_idempotency_key(status: int) -> None:
    assert should_retry(status, method="POST", idempotent=True)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_is_not_retried_for_a_post_without_an_idempotency_key(status: int) -> None:
    assert not should_retry(status, method="POST", idempotent=False)


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "get"])
def test_a_lost_answer_or_a_5xx_is_retried_for_methods_that_cannot_write_twice(
    method: str,
) -> None:
    assert should_retry(None, method=method, idempotent=False)
    assert should_retry(503, method=method, idempotent=False)


def test_a_lost_answer_of_a_post_is_retried_only_with_an_idempotency_key() -> None:
    assert should_retry(None, method="POST", idempotent=True)
    assert not should_retry(None, method="POST", idempotent=False)


@pytest.mark.parametrize(
    ("code", "retried"),
    [
        ("idempotency_key_in_use", True),
        ("idempotency_key_reused", False),
        ("channel_exists", False),
        (None, False),
    ],
)
def test_a_409_is_retried_only_while_the_first_request_with_its_key_still_runs(
    code: str | None, retried: bool
) -> None:
    assert should_retry(409, method="POST", idempotent=True, error_code=code) is retried


@pytest.mark.parametrize("status", [200, 201, 204, 400, 401, 403, 404, 410, 413, 422])
def test_answers_below_500_other_than_429_and_409_in_use_are_final(status: int) -> None:
    assert not should_retry(status, method="GET", idempotent=True)


# backoff ---------------------------------------------------------------------------------


def test_backoff_doubles_from_the_base_with_each_attempt() -> None:
    waits = [backoff(attempt, POLICY, jitter=1.0) for attempt in range(1, 6)]
    assert waits == [0.25, 0.5, 1.0, 2.0, 4.0]


def test_backoff_is_capped_at_backoff_max() -> None:
    assert backoff(6, POLICY, jitter=1.0) == 8.0
    assert backoff(60, POLICY, jitter=1.0) == 8.0


@pytest.mark.parametrize(("jitter", "wait"), [(0.0, 0.0), (0.5, 0.5), (0.999, 0.999)])
def test_backoff_draws_the_wait_between_zero_and_its_ceiling(jitter: float, wait: float) -> None:
    assert backoff(3, POLICY, jitter) == pytest.approx(wait)  # a ceiling of 1 s


# parse_retry_after -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"), [("1", 1.0), (" 2 ", 2.0), ("0", 0.0), ("1.5", 1.5), ("120", 120.0)]
)
def test_retry_after_in_seconds_is_read_as_seconds(value: str, seconds: float) -> None:
    assert parse_retry_after(value) == seconds


@pytest.mark.parametrize("value", ["-3", "nan", "inf", "1_000", "1e3"])
def test_a_retry_after_that_is_not_digits_or_a_date_is_ignored(value: str) -> None:
    assert parse_retry_after(value) is None


@pytest.mark.parametrize("value", [None, "", "soon", "Thursday", "12 monkeys"])
def test_a_missing_or_unreadable_retry_after_is_none(value: str | None) -> None:
    assert parse_retry_after(value) is None


def test_a_retry_after_http_date_is_the_seconds_until_that_date() -> None:
    now = datetime(2015, 10, 21, 7, 27, 30, tzinfo=UTC)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 30.0


def test_a_retry_after_http_date_in_the_past_means_at_once() -> None:
    now = datetime(2015, 10, 21, 8, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 0.0


def test_a_retry_after_date_without_a_zone_is_read_as_utc() -> None:
    now = datetime(2015, 10, 21, 7, 27, 50, tzinfo=UTC)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 -0000", now=now) == 10.0


def test_a_retry_after_date_is_measured_from_the_current_time_by_default() -> None:
    header = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    waited = parse_retry_after(header)
    assert waited is not None
    assert 80.0 <= waited <= 90.0


# next_delay ------------------------------------------------------------------------------


def delay(
    policy: RetryPolicy = POLICY,
    *,
    attempt: int = 1,
    elapsed: float = 0.0,
    retryable: bool = True,
    retry_after: float | None = None,
    jitter: float = 1.0,
) -> float | None:
    return next_delay(
        policy,
        attempt=attempt,
        elapsed=elapsed,
        retryable=retryable,
        retry_after=retry_after,
        jitter=jitter,
    )


def test_an_outcome_that_is_not_retryable_stops_at_once() -> None:
    assert delay(retryable=False) is None
    assert delay(retryable=False, retry_after=1.0) is None


def test_retries_stop_once_max_attempts_requests_were_sent() -> None:
    assert delay(attempt=3) == 1.0
    assert delay(attempt=4) is None
    assert delay(attempt=5) is None


def test_the_no_retry_policy_sends_each_request_once() -> None:
    assert delay(RetryPolicy.none(), attempt=1) is None


def test_retry_after_wins_over_the_backoff() -> None:
    assert delay(attempt=1, retry_after=3.0, jitter=0.1) == 3.0
    assert delay(attempt=3, retry_after=0.5, jitter=1.0) == 0.5


def test_a_retry_after_of_zero_retries_at_once() -> None:
    assert delay(retry_after=0.0) == 0.0


def test_a_retry_after_over_max_retry_after_gives_up_instead_of_waiting() -> None:
    policy = RetryPolicy(max_retry_after=5.0)
    assert delay(policy, retry_after=5.0) == 5.0
    assert delay(policy, retry_after=5.01) is None


def test_no_retry_starts_when_its_wait_would_pass_the_total_timeout() -> None:
    policy = RetryPolicy(total_timeout=10.0)
    assert delay(policy, attempt=1, elapsed=9.75) == 0.25
    assert delay(policy, attempt=1, elapsed=9.76) is None
    assert delay(policy, retry_after=4.0, elapsed=6.0) == 4.0
    assert delay(policy, retry_after=4.0, elapsed=6.5) is None


# Attempts --------------------------------------------------------------------------------


def test_a_post_carries_a_generated_idempotency_key_and_a_request_id() -> None:
    attempts = Attempts(client(), opening())
    assert attempts.key is not None
    assert attempts.request.headers["Idempotency-Key"] == attempts.key
    assert attempts.request.headers["X-Request-Id"]
    assert attempts.request.url.params["an"] == "acme"


def test_two_calls_get_two_different_idempotency_keys() -> None:
    sdk = client()
    assert Attempts(sdk, opening()).key != Attempts(sdk, opening()).key


def test_a_key_given_by_the_caller_is_sent_even_when_keys_are_turned_off() -> None:
    attempts = Attempts(client(idempotency_keys=False), opening(key="caller-key-1"))
    assert attempts.request.headers["Idempotency-Key"] == "caller-key-1"


def test_neither_a_get_nor_a_put_carries_an_idempotency_key() -> None:
    sdk = client()
    read = Attempts(sdk, get_offer("acme", "vtex.chaos", "1"))
    write = Attempts(
        sdk, update_feed("acme", "vtex.chaos", {"affiliateId": "A", "salesChannel": "1"})
    )
    assert read.key is None
    assert write.key is None
    assert "Idempotency-Key" not in read.request.headers
    assert "Idempotency-Key" not in write.request.headers


def test_without_idempotency_keys_a_post_has_none() -> None:
    attempts = Attempts(client(idempotency_keys=False), opening())
    assert attempts.key is None
    assert "Idempotency-Key" not in attempts.request.headers


def test_every_attempt_resends_the_same_request_with_the_same_key() -> None:
    attempts = Attempts(client(), opening())
    first = attempts.request
    assert attempts.answered(answer(503, errors("unavailable"))) is not None
    assert attempts.request is first
    assert attempts.request.headers["Idempotency-Key"] == attempts.key


def test_5xx_twice_then_a_201_waits_the_backoff_and_ends_ok_after_three_attempts() -> None:
    attempts = Attempts(client(jitter=0.5), opening())
    assert attempts.answered(answer(503, errors("unavailable"))) == 0.125
    assert attempts.answered(answer(502, errors("bad_gateway"))) == 0.25
    assert attempts.answered(answer(201, CREATED)) is None
    result = attempts.result
    assert result.ok
    assert result.attempts == 3
    assert result.data is not None
    assert result.data.id == "i-1"


def test_a_429_with_retry_after_waits_the_time_asked_not_the_backoff() -> None:
    attempts = Attempts(client(jitter=0.01), opening())
    assert attempts.answered(answer(429, errors("rate_limited"), retry_after="2")) == 2.0
    assert attempts.result.retry_after == 2.0


def test_a_429_is_retried_for_a_post_without_a_key() -> None:
    attempts = Attempts(client(idempotency_keys=False), opening())
    assert attempts.answered(answer(429, errors("rate_limited"), retry_after="1")) == 1.0


def test_a_5xx_of_a_post_without_a_key_is_returned_at_once() -> None:
    attempts = Attempts(client(idempotency_keys=False), opening())
    assert attempts.answered(answer(503, errors("unavailable"))) is None
    assert attempts.result.status_code == 503
    assert attempts.result.attempts == 1
    with pytest.raises(ServerError):
        attempts.result.raise_for_errors()


def test_the_last_answer_is_kept_when_max_attempts_is_reached() -> None:
    attempts = Attempts(client(), opening())
    delays = [attempts.answered(answer(503, errors("unavailable"))) for _ in range(4)]
    assert delays[:3] == [0.125, 0.25, 0.5]
    assert delays[3] is None
    assert attempts.result.status_code == 503
    assert attempts.result.attempts == 4
    assert [error.code for error in attempts.result.errors] == ["unavailable"]


def test_retries_stop_when_the_clock_says_the_total_timeout_would_pass() -> None:
    clock = Clock()
    attempts = Attempts(client(retry=RetryPolicy(total_timeout=3.0), clock=clock), opening())
    clock.now += 2.0
    assert attempts.answered(answer(429, errors("rate_limited"), retry_after="1")) == 1.0
    clock.now += 1.5
    assert attempts.answered(answer(429, errors("rate_limited"), retry_after="1")) is None
    assert attempts.result.attempts == 2
    with pytest.raises(RateLimitedError) as raised:
        attempts.result.raise_for_errors()
    assert raised.value.retry_after == 1.0


def test_a_retry_after_over_max_retry_after_returns_the_429_without_waiting() -> None:
    attempts = Attempts(client(retry=RetryPolicy(max_retry_after=5.0)), opening())
    assert attempts.answered(answer(429, errors("rate_limited"), retry_after="30")) is None
    assert attempts.result.retry_after == 30.0
    assert attempts.result.attempts == 1


def test_a_lost_answer_of_a_keyed_post_is_retried_and_the_replay_ends_the_call() -> None:
    attempts = Attempts(client(jitter=1.0), opening())
    assert attempts.lost(httpx.ReadTimeout("timed out")) == 0.25
    lost = attempts.result
    assert (lost.status_code, lost.attempts) == (0, 1)
    assert [(e.code, e.message) for e in lost.errors] == [
        ("transport_error", "ReadTimeout: timed out")
    ]
    assert attempts.answered(answer(201, CREATED, idempotent_replayed="true")) is None
    assert attempts.result.ok
    assert attempts.result.replayed
    assert attempts.result.attempts == 2


def test_a_lost_answer_without_a_message_names_the_error_type() -> None:
    attempts = Attempts(client(), opening())
    attempts.lost(httpx.RemoteProtocolError(""))
    assert attempts.result.errors[0].message == "RemoteProtocolError"


def test_a_lost_answer_of_a_post_without_a_key_ends_the_call_with_a_transport_error() -> None:
    attempts = Attempts(client(idempotency_keys=False), opening())
    assert attempts.lost(httpx.RemoteProtocolError("Server disconnected")) is None
    assert attempts.result.status_code == 0
    assert not attempts.result.ok
    with pytest.raises(TransportError, match="Server disconnected"):
        attempts.result.raise_for_errors()


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.PoolTimeout("busy")],
)
def test_a_post_that_never_reached_the_service_is_retried_even_without_a_key(
    error: httpx.TransportError,
) -> None:
    attempts = Attempts(client(idempotency_keys=False), opening())
    assert attempts.lost(error) is not None


def test_a_lost_answer_keeps_the_request_id_and_the_idempotency_key_for_the_caller() -> None:
    attempts = Attempts(client(), opening(key="key-1"))
    attempts.lost(httpx.ReadTimeout("late"))
    result = attempts.result
    assert result.request_id == attempts.request.headers["X-Request-Id"]
    assert result.idempotency_key == "key-1"
    with pytest.raises(TransportError) as raised:
        result.raise_for_errors()
    assert (raised.value.request_id, raised.value.idempotency_key) == (result.request_id, "key-1")


def test_each_attempt_times_out_no_later_than_the_total_timeout() -> None:
    clock = Clock()
    attempts = Attempts(client(clock=clock, retry=RetryPolicy(total_timeout=6.0)), opening())
    assert attempts.next_request().extensions["timeout"]["read"] == 5.0
    clock.now += 4.0
    assert attempts.next_request().extensions["timeout"]["read"] == pytest.approx(2.0)


def test_a_lost_answer_of_a_get_is_retried_without_a_key() -> None:
    attempts = Attempts(client(idempotency_keys=False), get_offer("acme", "vtex.chaos", "1"))
    assert attempts.lost(httpx.ConnectError("refused")) is not None


def test_a_409_in_use_waits_its_retry_after_then_takes_the_replay() -> None:
    attempts = Attempts(client(), opening())
    in_use = answer(409, errors("idempotency_key_in_use"), retry_after="1")
    assert attempts.answered(in_use) == 1.0
    assert attempts.answered(answer(201, CREATED, idempotent_replayed="true")) is None
    assert attempts.result.ok
    assert attempts.result.replayed


def test_a_409_reused_is_final_and_raises_a_conflict() -> None:
    attempts = Attempts(client(), opening(key="k-1"))
    assert attempts.answered(answer(409, errors("idempotency_key_reused"))) is None
    with pytest.raises(ConflictError) as raised:
        attempts.result.raise_for_errors()
    assert raised.value.codes == ["idempotency_key_reused"]


def test_an_answer_without_the_replay_header_is_not_replayed() -> None:
    attempts = Attempts(client(), opening())
    attempts.answered(answer(201, CREATED))
    assert not attempts.result.replayed


def test_an_unreadable_2xx_is_not_ok_and_not_retried() -> None:
    attempts = Attempts(client(), opening())
    assert attempts.answered(httpx.Response(201, content=b"<html>proxy page</html>")) is None
    assert attempts.result.status_code == 201
    assert not attempts.result.ok
    assert [error.code for error in attempts.result.errors] == ["invalid_answer"]


def test_an_error_answer_keeps_its_request_id_and_body() -> None:
    attempts = Attempts(client(idempotency_keys=False), opening())
    attempts.answered(answer(503, errors("unavailable"), x_request_id="rid-7"))
    with pytest.raises(ServerError) as raised:
        attempts.result.raise_for_errors()
    error = raised.value
    assert (error.status_code, error.request_id, error.codes) == (503, "rid-7", ["unavailable"])
    assert b"unavailable happened" in error.body


def test_an_error_body_not_in_the_service_shape_becomes_one_error() -> None:
    attempts = Attempts(client(idempotency_keys=False), opening())
    attempts.answered(httpx.Response(502, content=b"Bad Gateway"))
    assert [(e.code, e.message) for e in attempts.result.errors] == [("http_502", "Bad Gateway")]
