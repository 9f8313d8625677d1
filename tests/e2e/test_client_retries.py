"""The SDK's retries against the real service, through a proxy that misbehaves on cue.

Each test runs with the sync and the async client. The ``ChaosProxy`` (tests/support/chaos.py)
sits between the client and ``sentoffers serve``: it answers 429 or 5xx itself, loses the
service's answer, answers too late, or hangs up before forwarding. The service is set up and
checked through a second client that talks to it directly, so a test can count the writes
that really happened. Waits are real but short: the clients sleep what they are told and
record it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from sentoffers.client import (
    AccountClient,
    ApiError,
    AsyncSentOffersClient,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    RetryPolicy,
    SentOffersClient,
    SentOffersCredentials,
    SentOffersResponse,
    ServerError,
    TransportError,
    ValidationError,
)
from sentoffers.contract.offers import InteractionSummary
from tests.e2e.service_process import ServiceProcess, free_port
from tests.support.chaos import (
    Answer,
    AnswerLate,
    ChaosProxy,
    CloseBeforeForwarding,
    LoseAnswer,
    Pass,
    Seen,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(30)]

FEED = "vtex.chaos"
OPENING = {"source": "channel", "origin": "price", "context": "ongoing"}
LOG = {"type": "info", "description": "price sent", "agent": "chaos", "data": {"price": "9.90"}}
REPORT = {**OPENING, "type": "success", "description": "price accepted", "agent": "chaos"}
FAST = RetryPolicy(
    max_attempts=4, backoff_base=0.01, backoff_max=0.05, max_retry_after=2.0, total_timeout=5.0
)
TIMEOUT_S = 5.0
BATCH_MAX = 1000
"""The most items a batch may hold."""
IN_USE = json.dumps(
    {"errors": [{"code": "idempotency_key_in_use", "message": "still running"}]}
).encode()


class Sdk:
    """The sync or the async client on one account, called the same way either way:
    ``sdk.get_offer(FEED, "1")`` returns the ``SentOffersResponse``. ``waits`` lists the
    seconds of every sleep between attempts (each is really slept)."""

    def __init__(self, kind: str, base_url: str, account: str, **options: Any) -> None:
        self.waits: list[float] = []
        self._runner: asyncio.Runner | None = None
        self._close: Callable[[], Any]
        self._api: Any
        if kind == "async":
            self._runner = asyncio.Runner()
            client = AsyncSentOffersClient(base_url, sleep=self._async_sleep, **options)
            self._api, self._close = client.for_account(account), client.aclose
        else:
            blocking = SentOffersClient(base_url, sleep=self._sleep, **options)
            self._api, self._close = blocking.for_account(account), blocking.close

    def _sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(seconds)

    async def _async_sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(seconds)

    def _outcome(self, outcome: Any) -> Any:
        return outcome if self._runner is None else self._runner.run(outcome)

    def __getattr__(self, name: str) -> Callable[..., SentOffersResponse[Any]]:
        if name.startswith("_"):
            raise AttributeError(name)
        operation = getattr(self._api, name)

        def call(*args: Any, **kwargs: Any) -> SentOffersResponse[Any]:
            response: SentOffersResponse[Any] = self._outcome(operation(*args, **kwargs))
            return response

        return call

    def close(self) -> None:
        self._outcome(self._close())
        if self._runner is not None:
            self._runner.close()


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def proxy(shared_service: ServiceProcess) -> Iterator[ChaosProxy]:
    with ChaosProxy(shared_service.base_url) as chaos:
        yield chaos


@pytest.fixture
def direct(
    shared_service: ServiceProcess, admin_credentials: SentOffersCredentials, account: str
) -> Iterator[AccountClient]:
    """The SDK straight to the service, no retries: sets up the feed and counts the writes."""
    with SentOffersClient(
        shared_service.base_url, credentials=admin_credentials, retry=RetryPolicy.none()
    ) as client:
        api = client.for_account(account)
        channel = api.create_channel(
            {"vendor": "vtex", "name": "chaos", "logo": "https://example.com/chaos.png"}
        )
        # Channels are global: the first test of the session creates it.
        assert channel.ok or [e.code for e in channel.errors] == ["channel_exists"], channel
        api.create_feed(
            {"id": FEED, "salesChannel": "1", "affiliateId": "CHAOS"}
        ).raise_for_errors()
        yield api


@pytest.fixture
def connect(
    kind: str, proxy: ChaosProxy, admin_credentials: SentOffersCredentials, account: str
) -> Iterator[Callable[..., Sdk]]:
    """``connect(**options)``: a client of ``kind`` through the proxy, closed after the test."""
    made: list[Sdk] = []

    def connect(**options: Any) -> Sdk:
        base_url = options.pop("base_url", proxy.url)
        options = {
            "credentials": admin_credentials, "retry": FAST, "timeout": TIMEOUT_S, **options
        }  # fmt: skip
        sdk = Sdk(kind, base_url, account, **options)
        made.append(sdk)
        return sdk

    yield connect
    for sdk in made:
        sdk.close()


def interactions(direct: AccountClient, sku: str) -> list[InteractionSummary]:
    """The SKU's interactions as the service holds them (none when it has no offer yet)."""
    response = direct.list_offer_interactions(FEED, sku)
    if response.status_code == 404:
        return []
    return response.raise_for_errors().items


def actions(seen: list[Seen]) -> list[str]:
    return [request.action.name for request in seen]


def one_key(seen: list[Seen]) -> str:
    """The Idempotency-Key every request carried: one, and the same."""
    keys = {request.idempotency_key for request in seen}
    assert len(keys) == 1, keys
    [key] = keys
    assert key is not None
    return key


def api_error(response: SentOffersResponse[Any]) -> ApiError:
    with pytest.raises(ApiError) as raised:
        response.raise_for_errors()
    error = raised.value
    assert error.status_code == response.status_code
    assert error.errors == response.errors
    assert error.errors
    assert error.body == response.body
    assert error.body
    assert error.request_id == response.request_id
    return error


# Retry-After and 5xx ---------------------------------------------------------------------


def test_a_429_is_retried_after_the_retry_after_the_service_asks_not_the_backoff(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient
) -> None:
    sdk = connect()
    proxy.script(Answer(429, retry_after="1"))
    response = sdk.create_interaction(FEED, "1", OPENING)
    assert response.ok, response.errors
    assert response.attempts == 2
    assert sdk.waits == [1.0]
    assert actions(proxy.seen) == ["answer", "pass"]
    one_key(proxy.seen)
    assert len(interactions(direct, "1")) == 1


def test_a_429_with_an_http_date_is_retried_at_that_date(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient
) -> None:
    sdk = connect()
    # HTTP dates have whole seconds: two seconds ahead is between one and two from now.
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    proxy.script(Answer(429, retry_after=when))
    response = sdk.get_feed(FEED)
    assert response.ok, response.errors
    assert response.attempts == 2
    [wait] = sdk.waits
    assert 0.5 < wait <= 2.0  # not the backoff, which is at most 0.05 s


@pytest.mark.parametrize("statuses", [(503, 502), (502, 500)], ids=["503-502", "502-500"])
def test_5xx_twice_then_an_answer_is_ok_on_the_third_attempt_and_writes_once(
    connect: Callable[..., Sdk],
    proxy: ChaosProxy,
    direct: AccountClient,
    statuses: tuple[int, int],
) -> None:
    sdk = connect()
    proxy.script(*(Answer(status) for status in statuses))
    response = sdk.create_unified_interaction(FEED, "1", REPORT)
    assert response.ok, response.errors
    assert response.attempts == 3
    assert not response.replayed
    assert len(sdk.waits) == 2
    assert actions(proxy.seen) == ["answer", "answer", "pass"]
    one_key(proxy.seen)
    [written] = interactions(direct, "1")
    assert written.id == response.raise_for_errors().id
    assert written.log_count == 1


def test_a_service_that_always_answers_503_is_given_up_after_max_attempts(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient
) -> None:
    policy = RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.05, total_timeout=5.0)
    sdk = connect(retry=policy)
    proxy.always(Answer(503))
    response = sdk.create_interaction(FEED, "1", OPENING)
    assert response.status_code == 503
    assert response.attempts == 3
    assert len(proxy.seen) == 3
    assert len(sdk.waits) == 2
    assert sum(sdk.waits) <= policy.total_timeout
    assert [e.code for e in response.errors] == ["chaos_503"]
    assert interactions(direct, "1") == []


def test_a_service_that_always_answers_503_is_given_up_within_the_total_timeout(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient
) -> None:
    policy = RetryPolicy(max_attempts=1000, backoff_base=0.05, backoff_max=0.05, total_timeout=0.3)
    sdk = connect(retry=policy, jitter=lambda: 1.0)
    proxy.always(Answer(503))
    response = sdk.list_offer_interactions(FEED, "1")
    assert response.status_code == 503
    assert 2 <= response.attempts < policy.max_attempts
    assert len(proxy.seen) == response.attempts
    assert len(sdk.waits) == response.attempts - 1
    assert sum(sdk.waits) <= policy.total_timeout


def test_a_retry_after_over_max_retry_after_returns_the_429_at_once(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient
) -> None:
    sdk = connect()
    proxy.always(Answer(429, retry_after="30"))
    response = sdk.create_interaction(FEED, "1", OPENING)
    assert (response.status_code, response.attempts, response.retry_after) == (429, 1, 30.0)
    assert sdk.waits == []
    assert len(proxy.seen) == 1
    assert isinstance(api_error(response), RateLimitedError)


# Lost answers: the retry carries the same key and the service replays -----------------------


def assert_replayed_once(response: SentOffersResponse[Any], proxy: ChaosProxy) -> None:
    assert response.ok, response.errors
    assert response.replayed
    assert response.attempts == 2
    first, second = proxy.seen
    assert (first.action, second.action) == (LoseAnswer(), Pass())
    one_key(proxy.seen)
    # The replay is the first answer again, status included (a batch answers 200).
    assert first.upstream_status == second.upstream_status == response.status_code
    assert (first.replayed, second.replayed) == (False, True)


def test_an_interaction_whose_answer_is_lost_is_retried_and_written_once(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient
) -> None:
    sdk = connect()
    proxy.script(LoseAnswer())
    response = sdk.create_interaction(FEED, "1", OPENING)
    assert_replayed_once(response, proxy)
    [written] = interactions(direct, "1")
    assert written.id == response.raise_for_errors().id
    offer = direct.get_offer(FEED, "1").raise_for_errors()
    assert [interaction.id for interaction in offer.interactions] == [written.id]


def test_a_log_whose_answer_is_lost_is_retried_and_written_once(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient
) -> None:
    opened = direct.create_interaction(FEED, "1", OPENING).raise_for_errors()
    sdk = connect()
    proxy.script(LoseAnswer())
    response = sdk.create_log(FEED, "1", opened.id, LOG)
    assert_replayed_once(response, proxy)
    logs = direct.get_interaction(FEED, "1", opened.id).raise_for_errors().logs
    assert [log.id for log in logs] == [response.raise_for_errors().id]


def test_a_unified_interaction_whose_answer_is_lost_is_retried_and_written_once(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient
) -> None:
    sdk = connect()
    proxy.script(LoseAnswer())
    response = sdk.create_unified_interaction(FEED, "1", REPORT)
    assert_replayed_once(response, proxy)
    [written] = interactions(direct, "1")
    assert (written.id, written.log_count) == (response.raise_for_errors().id, 1)


def test_a_batch_whose_answer_is_lost_is_retried_and_written_once(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient
) -> None:
    sdk = connect()
    proxy.script(LoseAnswer())
    items = [{**REPORT, "skuId": "1"}, {**REPORT, "skuId": "2"}]
    response = sdk.create_unified_batch(FEED, items)
    assert_replayed_once(response, proxy)
    batch = response.raise_for_errors()
    assert (batch.succeeded, batch.failed) == (2, 0)
    for item in batch.items:
        [written] = interactions(direct, item.sku_id)
        assert written.id == item.interaction_id


def test_an_answer_later_than_the_client_timeout_is_retried_and_written_once(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient
) -> None:
    sdk = connect(timeout=0.5)
    proxy.script(AnswerLate(1.5))
    response = sdk.create_interaction(FEED, "1", OPENING)
    assert response.ok, response.errors
    # The first attempt did the write: the retry meets it running (409 in use, then the
    # replay) or finished (the replay at once).
    assert response.replayed
    assert response.attempts >= 2
    one_key(proxy.seen)
    assert {request.upstream_status for request in proxy.seen} <= {201, 409}
    [written] = interactions(direct, "1")
    assert written.id == response.raise_for_errors().id


def test_a_batch_slower_than_the_client_timeout_is_retried_until_replayed_and_written_once(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient
) -> None:
    # No chaos here: the service itself takes longer than the client waits, so a retry
    # may meet the first request still running (409 in use) before it gets the replay.
    policy = RetryPolicy(
        max_attempts=20, backoff_base=0.01, backoff_max=0.2, max_retry_after=2.0, total_timeout=8.0
    )
    sdk = connect(timeout=0.05, retry=policy)
    items = [{**REPORT, "skuId": f"slow-{index}"} for index in range(BATCH_MAX)]
    response = sdk.create_unified_batch(FEED, items)
    assert response.ok, response.errors
    assert response.replayed
    assert response.attempts >= 2
    assert response.raise_for_errors().succeeded == BATCH_MAX
    one_key(proxy.seen)
    assert {request.upstream_status for request in proxy.seen} <= {200, 409}
    written = direct.search_interactions().raise_for_errors()
    assert written.paging.total == BATCH_MAX


def test_a_retry_that_meets_the_first_request_still_running_waits_then_takes_the_replay(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient
) -> None:
    sdk = connect(jitter=lambda: 0.5)
    proxy.script(LoseAnswer(), Answer(409, retry_after="1", body=IN_USE))
    response = sdk.create_interaction(FEED, "1", OPENING)
    assert response.ok, response.errors
    assert response.replayed
    assert response.attempts == 3
    assert sdk.waits == pytest.approx([0.005, 1.0])  # half the first backoff, then 1 s
    assert actions(proxy.seen) == ["lose_answer", "answer", "pass"]
    one_key(proxy.seen)
    assert len(interactions(direct, "1")) == 1


def test_a_post_whose_connection_closes_before_forwarding_is_retried_and_written_once(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient
) -> None:
    sdk = connect()
    proxy.script(CloseBeforeForwarding())
    response = sdk.create_interaction(FEED, "1", OPENING)
    assert response.ok, response.errors
    assert not response.replayed  # the service saw only the retry
    assert response.attempts == 2
    one_key(proxy.seen)
    assert len(interactions(direct, "1")) == 1


# Without idempotency keys ------------------------------------------------------------------


def test_a_post_without_an_idempotency_key_whose_answer_is_lost_is_not_retried(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient
) -> None:
    sdk = connect(idempotency_keys=False)
    proxy.script(LoseAnswer())
    response = sdk.create_interaction(FEED, "1", OPENING)
    assert (response.status_code, response.attempts) == (0, 1)
    assert [e.code for e in response.errors] == ["transport_error"]
    with pytest.raises(TransportError):
        response.raise_for_errors()
    [seen] = proxy.seen
    assert seen.idempotency_key is None
    # The service wrote it all the same: the caller cannot know, so it must not retry.
    assert len(interactions(direct, "1")) == 1


def test_a_post_without_an_idempotency_key_closed_before_forwarding_is_not_retried(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient
) -> None:
    sdk = connect(idempotency_keys=False)
    proxy.script(CloseBeforeForwarding())
    response = sdk.create_interaction(FEED, "1", OPENING)
    assert (response.status_code, response.attempts) == (0, 1)
    assert interactions(direct, "1") == []


@pytest.mark.parametrize(
    "misbehaviour", [LoseAnswer(), CloseBeforeForwarding()], ids=lambda action: action.name
)
def test_a_get_whose_answer_is_lost_is_retried_without_a_key(
    connect: Callable[..., Sdk],
    proxy: ChaosProxy,
    direct: AccountClient,
    misbehaviour: LoseAnswer | CloseBeforeForwarding,
) -> None:
    sdk = connect(idempotency_keys=False)
    proxy.script(misbehaviour)
    response = sdk.get_feed(FEED)
    assert response.ok, response.errors
    assert response.attempts == 2
    assert response.raise_for_errors().id == FEED
    assert [request.idempotency_key for request in proxy.seen] == [None, None]


# raise_for_errors --------------------------------------------------------------------------


def test_bad_credentials_raise_an_authentication_error(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient
) -> None:
    wrong = SentOffersCredentials(app_key="vtexappkey-nobody-CHAOS", app_token="not-the-token")
    sdk = connect(credentials=wrong)
    response = sdk.list_feeds()
    error = api_error(response)
    assert isinstance(error, AuthenticationError)
    assert (error.status_code, response.attempts) == (401, 1)
    [seen] = proxy.seen
    assert error.request_id == seen.request_id


def test_an_unknown_feed_raises_not_found(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient
) -> None:
    response = connect().get_feed("vtex.nowhere")
    error = api_error(response)
    assert isinstance(error, NotFoundError)
    assert error.status_code == 404
    assert error.request_id == proxy.seen[0].request_id


def test_a_feed_created_twice_raises_a_conflict_and_is_not_retried(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient
) -> None:
    response = connect().create_feed({"id": FEED, "salesChannel": "1", "affiliateId": "CHAOS"})
    error = api_error(response)
    assert isinstance(error, ConflictError)
    assert (error.status_code, response.attempts) == (409, 1)


def test_an_invalid_body_raises_a_validation_error_listing_the_fields(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient
) -> None:
    response = connect().create_feed({"id": FEED})
    error = api_error(response)
    assert isinstance(error, ValidationError)
    assert (error.status_code, response.attempts) == (400, 1)
    assert {e.field for e in error.errors} >= {"affiliateId", "salesChannel"}


def test_a_429_that_outlasts_the_retries_raises_rate_limited_with_its_retry_after(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient
) -> None:
    sdk = connect(retry=RetryPolicy(max_attempts=3, backoff_base=0.01))
    proxy.always(Answer(429, retry_after="0"))
    response = sdk.list_feeds()
    error = api_error(response)
    assert isinstance(error, RateLimitedError)
    assert (error.status_code, error.retry_after, response.attempts) == (429, 0.0, 3)
    assert sdk.waits == [0.0, 0.0]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_that_outlasts_the_retries_raises_a_server_error(
    connect: Callable[..., Sdk], proxy: ChaosProxy, direct: AccountClient, status: int
) -> None:
    sdk = connect(retry=RetryPolicy(max_attempts=2, backoff_base=0.01))
    proxy.always(Answer(status))
    response = sdk.get_feed(FEED)
    error = api_error(response)
    assert isinstance(error, ServerError)
    assert (error.status_code, error.codes, response.attempts) == (status, [f"chaos_{status}"], 2)


# No service at all -------------------------------------------------------------------------


@pytest.mark.parametrize("call", ["get", "post"])
def test_a_refused_connection_is_retried_then_raises_a_transport_error(
    connect: Callable[..., Sdk], call: str
) -> None:
    policy = RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.05, total_timeout=2.0)
    sdk = connect(base_url=f"http://127.0.0.1:{free_port()}", retry=policy)
    if call == "get":
        response = sdk.list_feeds()
    else:
        response = sdk.create_feed({"id": FEED, "salesChannel": "1", "affiliateId": "CHAOS"})
    assert (response.status_code, response.attempts) == (0, 3)
    assert len(sdk.waits) == 2
    assert sum(sdk.waits) <= policy.total_timeout
    with pytest.raises(TransportError, match="ConnectError"):
        response.raise_for_errors()
