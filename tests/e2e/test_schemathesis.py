"""Schemathesis against the real service, from the service's own ``/openapi.json``.

The service runs in its own process on a fresh database, once on SQLite and once on PostgreSQL
(the ``service`` fixture, parametrized by store). Before any case runs, the harness makes a
connector key for ``ACCOUNT`` and, through the public HTTP API, data for the reads to find:
channel and feed ``vtex.amazon`` with offers, closed and open interactions, logs with a known
and an unknown error code, a unified interaction and a batch; a second feed for
``DELETE /feeds/{feedId}`` to deactivate, so ``vtex.amazon`` stays active; and a channel with
no feed for ``POST /feeds`` to activate.

Schemathesis then generates cases for every operation of the schema (its examples, coverage and
fuzzing phases; at most ``MAX_EXAMPLES`` fuzzed cases per operation, derandomized, with a fixed
seed). Every case carries the key's ``X-VTEX-API-AppKey``/``X-VTEX-API-AppToken`` headers and
``an=ACCOUNT``; path parameters and a few query parameters take, half of the time, values that
name the harness's data (``DICTIONARY_PARAMETERS``, and per operation in
``schemathesis_config``), so reads answer data and not only 404. The key is a connector key:
admin-only operations answer 403, which is documented and fine.

Hostile input is drawn on purpose, not left to chance: every string path or query parameter
(``string_parameters``) and every string of every request body (``body_string_paths``, found
by walking the schema) takes now and then a value of ``HOSTILE`` (NUL, C0 and C1 controls,
DEL, line breaks, dates at the ends of the calendar); date parameters and fields take values
of ``EXTREME_DATES``; the harness's dictionaries hold a few ids and words with control
characters too (``HOSTILE_ENTRIES``); and the generator's own alphabet includes NUL
(``allow-x00``). None of it may answer 5xx (PostgreSQL cannot store NUL, Python's dates stop
at year 9999), and the run fails unless some cases carried each kind (``HOSTILE_KINDS``).
The service's rate limits are off for the run (``UNLIMITED``).

Each response must pass ``CHECKS``: no 5xx, a documented status code and content type, a body
that conforms to the documented schema for that status, the documented headers, and 405 for
methods a path does not have. The errors (400, 401, 403, 404, 409, 410, 413) are documented on
every route with the ``ErrorBody`` schema (``ContractRoute``), so they are checked like the
successes. At the end, every operation must have run cases, and each of ``MUST_ANSWER`` must
have succeeded at least once. Run with ``-s`` to see the count of answers per operation.
"""

from __future__ import annotations

import itertools
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
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
from tests.support.postgres import PostgresServer

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
MAX_EXAMPLES = 10
"""Fuzzed cases per operation and store; with the examples and coverage phases, some 2,800
cases per store, so that both stores together run in about two minutes."""
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
    waited: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    """Seconds spent waiting for the service's answers."""
    hostile: Counter[str] = field(default_factory=Counter)
    """Cases that carried a NUL, another control character, or an extreme date."""
    started: float = field(default_factory=time.monotonic)

    def summary(self) -> str:
        cases = sum(sum(c.values()) for c in self.statuses.values())
        seconds = time.monotonic() - self.started
        by_status = Counter[int]()
        for counter in self.statuses.values():
            by_status.update(counter)
        lines = [
            f"schemathesis: {cases} cases over {len(self.statuses)} operations in {seconds:.1f}s"
            f" ({sum(self.waited.values()):.1f}s waiting for answers);"
            f" statuses {dict(sorted(by_status.items()))};"
            f" cases carrying {dict(sorted(self.hostile.items()))}"
        ]
        for label, counter in sorted(self.statuses.items()):
            lines.append(f"  {label}: {dict(sorted(counter.items()))} in {self.waited[label]:.1f}s")
        return "\n".join(lines)

    def problems(self, labels: list[str]) -> list[str]:
        """Operations that ran no case, and those of ``MUST_ANSWER`` that never succeeded."""
        found = [f"no case ran for {label}" for label in labels if not self.statuses[label]]
        found += [
            f"{label} never answered {status}: no case reached the harness's data"
            for label, status in MUST_ANSWER.items()
            if not self.statuses[label][status]
        ]
        found += [f"no case carried {kind}" for kind in HOSTILE_KINDS if not self.hostile[kind]]
        return found


HOSTILE_KINDS = ("NUL", "another control character", "an extreme date")
_CONTROL = re.compile(r"[\x01-\x1f\x7f-\x9f]")
_EXTREME_YEAR = re.compile(r"(^|/)(0000|0001|9999|10000)\b")


def hostile_kinds(*values: Any) -> set[str]:
    """Which of ``HOSTILE_KINDS`` the strings anywhere in ``values`` carry."""
    kinds = set()
    pending = list(values)
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list | tuple):
            pending.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                kinds.add("NUL")
            if _CONTROL.search(value):
                kinds.add("another control character")
            if _EXTREME_YEAR.search(value):
                kinds.add("an extreme date")
    return kinds


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


HOSTILE = [
    "\u0000",
    "a\u0000b",
    "vtex.amazon\u0000",
    "1234\u0000",
    "\u0001",
    "\u001b[31mred",
    "\u007f",
    "\u0085",
    "\u009f",
    "two\nlines",
    "tab\there",
    "\r\n",
    " ",
    "9999-12-31",
    "0001-01-01T00:00:00+01:00",
]
"""Strings the service must refuse (or, in free text and evidence, keep) without a 5xx."""

EXTREME_DATES = [
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59.9999999Z",
    "9999-12-31T23:00:00-05:00",
    "0001-01-01T00:00:00+01:00",
    "12/31/9999 11:59:59 PM",
    "31/12/9999 23:59:59",
    "10000-01-01",
    "0000-01-01",
    "2024-02-30",
    "2024-03-01\u0000",
]
"""Dates at and past the ends of Python's calendar (years 1 to 9999), in each accepted form."""

DATE_PARAMETERS = (
    "query.fromDate",
    "query.toDate",
    "body.date",
    "body.startDate",
    "body.[*].date",
    "body.[*].startDate",
    "body.[*].logs.[*].date",
)
HOSTILE_PROBABILITY = 0.1
"""For each string query parameter, and each path id the harness does not name: a search
has ten, and most of its cases should still reach the data."""
HOSTILE_BODY_PROBABILITY = 0.05
"""For each string of a body: a body has up to some thirty, so most bodies get one or two."""
HOSTILE_ENTRIES = {
    "feeds": [f"{FEED}\u0000"],
    "skus": ["1234\u0000", "12\u000134"],
    "interactions": ["\u0000"],
    "logs": ["\u001f"],
    "codes": ["CTLG-001\u0000"],
    "keys": ["\u0000"],
    "words": ["Harness\u0000", "product\nname"],
    "origins": ["catalog\u0000"],
    "results": ["success\u0001"],
    "statuses": ["synced\n"],
}
"""Added to the harness's dictionaries, so the ids and words it names carry control
characters too."""

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
    "query.origin": "origins",
    "query.scope": "origins",
    "query.result": "results",
    "query.status": "statuses",
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


def body_string_paths(openapi: dict[str, Any]) -> set[str]:
    """The ``body.`` binding key of every string in every JSON request body of ``openapi``."""
    components = openapi.get("components", {}).get("schemas", {})
    found: set[str] = set()

    def walk(schema: Any, path: tuple[str, ...], seen: frozenset[str]) -> None:
        if not isinstance(schema, dict) or len(path) > 8:
            return
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                walk(components.get(name), path, seen | {name})
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for part in schema.get(key, ()):
                walk(part, path, seen)
        kinds = schema.get("type")
        if (kinds == "string" or (isinstance(kinds, list) and "string" in kinds)) and path:
            found.add(".".join(("body", *path)))
        for name, part in schema.get("properties", {}).items():
            walk(part, (*path, name), seen)
        if "items" in schema:
            walk(schema["items"], (*path, "[*]"), seen)

    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            content = (operation.get("requestBody") or {}).get("content", {})
            walk(content.get("application/json", {}).get("schema"), (), frozenset())
    return found


def string_parameters(openapi: dict[str, Any]) -> set[str]:
    """The binding key (``query.q``, ``path.channelId``) of every path or query parameter that
    takes a string, but ``an`` (the harness's account); security headers are left alone, as
    an HTTP server refuses a control character in a header before the service sees it."""
    found = set()
    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", ()):
                schema = parameter.get("schema", {})
                kinds = [schema.get("type"), *(p.get("type") for p in schema.get("anyOf", ()))]
                if (
                    parameter["in"] in ("path", "query")
                    and parameter["name"] != "an"
                    and "string" in kinds
                ):
                    found.add(f"{parameter['in']}.{parameter['name']}")
    return found


def schemathesis_config(
    base_url: str, seeded: Seeded, openapi: dict[str, Any]
) -> SchemathesisConfig:
    dictionaries = {
        "feeds": [FEED],
        "skus": list(SKUS),
        "interactions": list(seeded.interactions),
        "logs": list(seeded.logs),
        "codes": [KNOWN_CODE, "NTMAP-001"],
        "keys": [seeded.key.app_key],
        "words": [SKUS[0], "Harness product", KNOWN_CODE, "mapping"],
        "sorts": list(SORTS),
        "origins": ["catalog", "price", "inventory", "catalog,price"],
        "results": ["success", "failure", "processing", "notification", "success,failure"],
        "statuses": ["synced", "sending", "error", "unavailable", "error,sending"],
        "deactivate": [DEACTIVATE_FEED],
        "open-skus": [SKUS[-1]],
        "failed-interactions": [seeded.interactions[-1]],
        "failed-logs": [seeded.logs[-1]],
        "open-interactions": [seeded.log_target],
        "activate": [ACTIVATE_FEED, FEED],
    }
    for name, hostile in HOSTILE_ENTRIES.items():
        dictionaries[name] = [*dictionaries[name], *hostile]
    dictionaries["hostile"] = HOSTILE
    dictionaries["dates"] = EXTREME_DATES
    parameters: dict[str, Any] = {
        name: known("hostile", HOSTILE_BODY_PROBABILITY) for name in body_string_paths(openapi)
    }
    parameters.update(
        {name: known("hostile", HOSTILE_PROBABILITY) for name in string_parameters(openapi)}
    )
    parameters.update({name: known("dates", HOSTILE_PROBABILITY) for name in DATE_PARAMETERS})
    parameters.update(
        {name: known(dictionary) for name, dictionary in DICTIONARY_PARAMETERS.items()}
    )
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
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "database": "none",
                "allow-x00": True,
                "codec": "utf-8",
            },
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


_databases = itertools.count()

UNLIMITED = {
    f"SENTOFFERS_{name}": "0"
    for name in (
        "RATE_LIMIT_KEY_PER_SECOND",
        "RATE_LIMIT_KEY_PER_MINUTE",
        "RATE_LIMIT_IP_PER_SECOND",
        "RATE_LIMIT_IP_PER_MINUTE",
        "LOGIN_FAILURES_MAX",
    )
}
"""The fuzzer sends thousands of requests a minute with one key, and fails many logins, by
design: the service's limits (tested on their own) are off for it."""


@pytest.fixture(params=["sqlite", "postgresql"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServiceProcess]:
    """``sentoffers serve`` on a fresh database of each store, answering /health."""
    database_url = f"sqlite:///{tmp_path / 'sentoffers.db'}"
    server: PostgresServer | None = None
    name = f"schemathesis_{next(_databases)}"
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        server.drop_database(name)
        server.create_database(name)
        database_url = server.url(name)
    process = ServiceProcess(
        database_url=database_url, log_path=tmp_path / "service.log", env=UNLIMITED
    )
    try:
        process.start()
    except RuntimeError as error:
        pytest.fail(f"the service did not start:\n{error}")
    try:
        yield process
    finally:
        process.stop()
        if server is not None:
            server.drop_database(name)


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
    openapi = httpx.get(f"{service.base_url}/openapi.json", timeout=REQUEST_TIMEOUT_S).json()
    return schemathesis.openapi.from_url(
        f"{service.base_url}/openapi.json",
        config=schemathesis_config(service.base_url, seeded, openapi),
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
    tally.hostile.update(hostile_kinds(case.path_parameters, case.query, case.body))
    sent = time.monotonic()
    response = case.call()
    tally.waited[case.operation.label] += time.monotonic() - sent
    tally.statuses[case.operation.label][response.status_code] += 1
    case.validate_response(response, checks=CHECKS)
