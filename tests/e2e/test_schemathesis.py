"""Schemathesis against the real service, from the service's own ``/openapi.json``.

The service runs in its own process on a fresh SQLite database (the ``service`` fixture). Before
any case runs, the harness makes a connector key for ``ACCOUNT`` and, through the public HTTP
API, data for the reads to find: channel and feed ``vtex.amazon`` with offers, closed and open
interactions, logs with a known and an unknown error code, a unified interaction and a batch;
a second feed for ``DELETE /feeds/{feedId}`` to deactivate, so ``vtex.amazon`` stays active; and
a channel with no feed for ``POST /feeds`` to activate.

Schemathesis then generates cases for every operation of the schema (its examples, coverage and
fuzzing phases; at most ``MAX_EXAMPLES`` fuzzed cases per operation, derandomized, with a fixed
seed). Every case carries the key's ``X-VTEX-API-AppKey``/``X-VTEX-API-AppToken`` headers and
``an=ACCOUNT``; path parameters and a few query parameters take, half of the time, values that
name the harness's data (``DICTIONARY_PARAMETERS``, and per operation in
``schemathesis_config``), so reads answer data and not only 404. The key is a connector key:
admin-only operations answer 403, which is documented and fine.

Each response must pass ``CHECKS``: no 5xx, a documented status code and content type, a body
that conforms to the documented schema for that status, the documented headers, and 405 for
methods a path does not have. The errors (400, 401, 403, 404, 409, 410, 413) are documented on
every route with the ``ErrorBody`` schema (``ContractRoute``), so they are checked like the
successes. At the end, every operation must have run cases, and each of ``MUST_ANSWER`` must
have succeeded at least once. Run with ``-s`` to see the count of answers per operation.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case, checks
from schemathesis.checks import CheckFunction
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.schemas import BaseSchema

from tests.e2e.service_process import ApiKey, ServiceProcess, create_key

pytestmark = pytest.mark.e2e

ACCOUNT = "fuzzshop"
FEED = "vtex.amazon"
DEACTIVATE_FEED = "harness.deactivate-me"
ACTIVATE_FEED = "harness.activate-me"
"""A channel with no feed yet, for ``POST /feeds`` to activate."""
SKUS = ("1234", "5678", "9012")
KNOWN_CODE = "CTLG-001"
UNKNOWN_CODE = "ACME-77"
SEED = 20240301
MAX_EXAMPLES = 25
KNOWN_VALUE_PROBABILITY = 0.5
NESTED_PROBABILITY = 0.8
"""For the reads of an interaction or a log, whose 3 or 4 ids must all be the harness's."""
REQUEST_TIMEOUT_S = 10

CHECKS: list[CheckFunction] = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.missing_required_header,
    checks.unsupported_method,
]
"""Left out: ``ignored_auth`` (every case sends the key, so "invalid auth" cases are not
invalid); ``negative_data_rejection`` (request models accept on purpose what the .NET SDK sends:
numbers for strings, null for absent, any case of keys); ``positive_data_acceptance`` (the
schema types sorts, origins, results, statuses and dates as free strings that the service checks
against its vocabularies: a documented 400); ``allow_header_conformance`` (a 405 names only the
first matching route's methods)."""

OFFER_PATH = "/api/sent-offers/feeds/{feedId}/skus/{skuId}"
INTERACTION_PATH = f"{OFFER_PATH}/interactions/{{interactionId}}"
LOG_PATH = f"{INTERACTION_PATH}/logs/{{logId}}"
LOGS_PATH = f"{INTERACTION_PATH}/logs"

MUST_ANSWER = {
    "GET /api/sent-offers/feeds/{feedId}": 200,
    f"GET {OFFER_PATH}": 200,
    f"GET {OFFER_PATH}/interactions": 200,
    f"GET {INTERACTION_PATH}": 200,
    f"GET {LOG_PATH}": 200,
    "GET /api/sent-offers/error-codes/{errorCodeId}": 200,
    f"POST {LOGS_PATH}": 201,
}
"""Operations given the harness's ids, and the success each must have answered at least once:
proof that the run reached the data, not only 404s."""


@dataclass(frozen=True, slots=True)
class Seeded:
    """The key and the ids the harness made before the cases run."""

    key: ApiKey
    interactions: tuple[str, ...]
    """One per SKU of ``SKUS``; the last is left open."""
    logs: tuple[str, ...]
    log_target: str
    """Open, on the last SKU, for ``POST .../logs`` alone (other cases may close the others)."""


@dataclass(slots=True)
class Tally:
    """What the cases did, per operation label."""

    statuses: defaultdict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    started: float = field(default_factory=time.monotonic)

    def summary(self) -> str:
        cases = sum(sum(c.values()) for c in self.statuses.values())
        seconds = time.monotonic() - self.started
        by_status = Counter[int]()
        for counter in self.statuses.values():
            by_status.update(counter)
        lines = [
            f"schemathesis: {cases} cases over {len(self.statuses)} operations in {seconds:.1f}s;"
            f" statuses {dict(sorted(by_status.items()))}"
        ]
        for label, counter in sorted(self.statuses.items()):
            lines.append(f"  {label}: {dict(sorted(counter.items()))}")
        return "\n".join(lines)

    def problems(self, labels: list[str]) -> list[str]:
        """Operations that ran no case, and those of ``MUST_ANSWER`` that never succeeded."""
        found = [f"no case ran for {label}" for label in labels if not self.statuses[label]]
        found += [
            f"{label} never answered {status}: no case reached the harness's data"
            for label, status in MUST_ANSWER.items()
            if not self.statuses[label][status]
        ]
        return found


# Data for the reads, made through the public API.


def _expect(response: httpx.Response, status: int, what: str) -> Any:
    if response.status_code != status:
        raise AssertionError(
            f"seeding: {what} answered {response.status_code} (expected {status}): "
            f"{response.request.method} {response.request.url}\n{response.text}"
        )
    return response.json() if response.content else None


def _log(kind: str, description: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "description": description,
        "date": "2024-03-01T10:00:00Z",
        "agent": "schemathesis-harness",
        "evidence": {"request": "POST /offers", "response": "200 OK"},
        **extra,
    }


def _offer_data(sku: str) -> dict[str, str]:
    return {
        "externalOfferId": f"AMZ-{sku}",
        "inventory": "7",
        "price": "21.90",
        "salesPrice": "19.90",
        "currency": "BRL",
        "status": "synced",
        "name": f"Harness product {sku}",
        "brand": "Acme",
        "category": "Tools",
    }


def seed(base_url: str, key: ApiKey) -> Seeded:
    headers = {"X-VTEX-API-AppKey": key.app_key, "X-VTEX-API-AppToken": key.app_token}
    interactions: list[str] = []
    logs: list[str] = []
    with httpx.Client(
        base_url=f"{base_url}/api/sent-offers",
        headers=headers,
        params={"an": ACCOUNT},
        timeout=REQUEST_TIMEOUT_S,
    ) as client:
        for feed_id, active in ((FEED, True), (DEACTIVATE_FEED, True), (ACTIVATE_FEED, False)):
            vendor, name = feed_id.split(".")
            channel = _expect(
                client.post(
                    "/channels",
                    json={"vendor": vendor, "name": name, "logo": "https://e2e.test/logo.png"},
                ),
                201,
                f"Create Channel {vendor}/{name}",
            )
            assert channel["id"] == feed_id, channel
            if active:
                _expect(
                    client.post(
                        "/feeds", json={"id": feed_id, "affiliateId": "HNS", "salesChannel": "1"}
                    ),
                    201,
                    f"Activate Feed {feed_id}",
                )
        on_feed = f"/feeds/{FEED}/skus"

        def open_interaction(sku: str, day: int) -> str:
            interaction = _expect(
                client.post(
                    f"{on_feed}/{sku}/interactions",
                    json={
                        "startDate": f"2024-03-{day:02d}T09:00:00Z",
                        "source": "seller",
                        "origin": "catalog",
                        "context": "setup",
                    },
                ),
                201,
                f"Open Interaction on {sku}",
            )
            return str(interaction["id"])

        for index, sku in enumerate(SKUS):
            interactions.append(open_interaction(sku, index + 1))
            path = f"{on_feed}/{sku}/interactions/{interactions[-1]}"
            if sku == SKUS[-1]:
                errors = [
                    {"code": KNOWN_CODE, "title": "Brand not mapped", "closableOrigins": "catalog"},
                    {"code": UNKNOWN_CODE, "description": "The channel said no"},
                ]
                log = _log("failure", "The channel refused the offer", errors=errors)
            else:
                log = _log("success", "The offer was sent", data=_offer_data(sku))
            logs.append(_expect(client.post(f"{path}/logs", json=log), 201, f"Log on {sku}")["id"])
            if sku != SKUS[-1]:
                _expect(client.post(f"{path}/close"), 204, f"Close Interaction on {sku}")
        log_target = open_interaction(SKUS[-1], len(SKUS) + 1)
        _expect(
            client.post(
                f"{on_feed}/{SKUS[0]}/interactions/unified",
                json={
                    **_log("success", "Price sent", data={"price": "25.00", "currency": "BRL"}),
                    "source": "seller",
                    "origin": "price",
                    "context": "ongoing",
                },
            ),
            201,
            "Unified Interaction",
        )
        _expect(
            client.post(
                f"/feeds/{FEED}/interactions/unified/batch",
                json=[
                    {
                        **_log("success", "Stock sent", data={"inventory": "3"}),
                        "skuId": sku,
                        "source": "seller",
                        "origin": "inventory",
                        "context": "ongoing",
                    }
                    for sku in SKUS[:2]
                ],
            ),
            200,
            "Unified Interaction batch",
        )
    return Seeded(
        key=key, interactions=tuple(interactions), logs=tuple(logs), log_target=log_target
    )


# The schema and its configuration.


DICTIONARY_PARAMETERS = {
    "path.feedId": "feeds",
    "path.skuId": "skus",
    "path.interactionId": "interactions",
    "path.logId": "logs",
    "path.errorCodeId": "codes",
    "path.appKey": "keys",
    "query.channel": "feeds",
    "query.channels": "feeds",
    "query.q": "words",
    "query.sort": "sorts",
}
"""Parameters that take, half of the time, a value of the named dictionary."""

SORTS = (
    "startDate:desc",
    "closedAt:asc",
    "skuId:asc",
    "result:desc",
    "id:asc",
    "type:desc",
    "openErrors:desc",
    "offersAffected:asc",
    "updatedAt:desc",
    "name:asc",
    "status:asc",
    "occurrences:desc",
    "lastSeen:asc",
)
"""Valid sorts of the listing and search operations (each valid for some of them)."""


def known(dictionary: str, probability: float = KNOWN_VALUE_PROBABILITY) -> dict[str, Any]:
    """A parameter that takes a value of ``dictionary`` with ``probability``."""
    return {"dictionary": dictionary, "probability": probability}


def failed_log_ids(probability: float) -> dict[str, Any]:
    """The path of the harness's failure log (with a known and an unknown error code)."""
    return {
        "path.feedId": known("feeds", probability),
        "path.skuId": known("open-skus", probability),
        "path.interactionId": known("failed-interactions", probability),
        "path.logId": known("failed-logs", probability),
    }


def schemathesis_config(base_url: str, seeded: Seeded) -> SchemathesisConfig:
    dictionaries = {
        "feeds": [FEED],
        "skus": list(SKUS),
        "interactions": list(seeded.interactions),
        "logs": list(seeded.logs),
        "codes": [KNOWN_CODE, "NTMAP-001"],
        "keys": [seeded.key.app_key],
        "words": [SKUS[0], "Harness product", KNOWN_CODE, "mapping"],
        "sorts": list(SORTS),
        "deactivate": [DEACTIVATE_FEED],
        "open-skus": [SKUS[-1]],
        "failed-interactions": [seeded.interactions[-1]],
        "failed-logs": [seeded.logs[-1]],
        "open-interactions": [seeded.log_target],
        "activate": [ACTIVATE_FEED, FEED],
    }
    parameters: dict[str, Any] = {
        name: known(dictionary) for name, dictionary in DICTIONARY_PARAMETERS.items()
    }
    parameters["query.an"] = ACCOUNT
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "base-url": base_url,
            "headers": {
                "X-VTEX-API-AppKey": seeded.key.app_key,
                "X-VTEX-API-AppToken": seeded.key.app_token,
            },
            "request-timeout": REQUEST_TIMEOUT_S,
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "dictionaries": {name: {"values": values} for name, values in dictionaries.items()},
            "parameters": parameters,
            "operations": [
                {
                    # Its own feed to deactivate, so that vtex.amazon stays active for the reads.
                    "include-name": "DELETE /api/sent-offers/feeds/{feedId}",
                    "parameters": {"path.feedId": known("deactivate")},
                },
                {
                    # The open interaction, so that some logs are written.
                    "include-name": f"POST {LOGS_PATH}",
                    "parameters": {
                        "path.feedId": known("feeds"),
                        "path.skuId": known("open-skus"),
                        "path.interactionId": known("open-interactions"),
                    },
                },
                {
                    # Ids that belong together, so that the nested reads find something.
                    "include-name": [f"GET {INTERACTION_PATH}", f"GET {LOG_PATH}"],
                    "parameters": failed_log_ids(NESTED_PROBABILITY),
                },
                {
                    # Channels that exist, so that some activations succeed.
                    "include-name": "POST /api/sent-offers/feeds",
                    "parameters": {"body.id": known("activate")},
                },
            ],
        }
    )


@pytest.fixture
def seeded(service: ServiceProcess) -> Seeded:
    key = create_key(service.database_url, ACCOUNT, role="connector")
    try:
        return seed(service.base_url, key)
    except AssertionError as error:
        problem = str(error)
    pytest.fail(f"{problem}\n\n{service.log_tail()}", pytrace=False)


@pytest.fixture
def api_schema(service: ServiceProcess, seeded: Seeded) -> BaseSchema:
    return schemathesis.openapi.from_url(
        f"{service.base_url}/openapi.json",
        config=schemathesis_config(service.base_url, seeded),
        timeout=REQUEST_TIMEOUT_S,
    )


@pytest.fixture
def tally(api_schema: BaseSchema, service: ServiceProcess) -> Iterator[Tally]:
    """Counts the answers per operation; after the run, checks that the run reached the data."""
    counts = Tally()
    yield counts
    print(counts.summary())
    labels = [r.ok().label for r in api_schema.get_all_operations() if isinstance(r, Ok)]
    problems = counts.problems(labels)
    if problems:
        pytest.fail("\n".join([counts.summary(), *problems, "", service.log_tail()]), pytrace=False)


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """Schemathesis 4.32's lazy schema reads and writes ``node._nodeid``, which pytest 9.2 no
    longer has (the id is ``node._id``). Giving the node that attribute lets it run; it only
    renames the node in schemathesis's own per-operation reports."""
    node = request.node
    if not hasattr(node, "_nodeid"):
        node._nodeid = node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_conforms(case: Case, tally: Tally) -> None:
    case.query = {**(case.query or {}), "an": ACCOUNT}
    response = case.call()
    tally.statuses[case.operation.label][response.status_code] += 1
    case.validate_response(response, checks=CHECKS)
