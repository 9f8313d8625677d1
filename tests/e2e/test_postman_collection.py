"""The official Postman collection, run by newman against the real service.

How the harness runs it (see DESIGN.md, "Notes on the official contract"):

1. The service runs in its own process on a fresh SQLite database; a connector key is made
   for ``ACCOUNT`` with the ``sentoffers keys create`` command.
2. Before newman runs, the harness prepares, through the public HTTP API, what the
   collection's fixed example ids cannot give it: a feed of its own to deactivate, and, on a
   feed of its own (the reads feed), an interaction with no logs (read, then closed), an open
   interaction to log into, and a log to read. The collection's own requests create channel
   and feed ``vtex.amazon`` and open an interaction on it; those are left as written.
3. A copy of the collection, written to ``tmp_path``, keeps the requests of ``RUN_REQUESTS``
   in file order, with the prepared ids in their ``url.variable`` values (the path ids, per
   request), the account in place of Create Channel's literal ``an=accountName``, and an
   ``X-VTEX-API-AppToken`` header added (the collection-level auth only sends the AppKey).
   Its ``url.query`` values are left as written: the ``event`` scripts, which hold every
   assertion, are kept byte for byte, and the test checks that they are.
4. Newman runs the whole collection with one environment, as Postman users run it: one value
   per variable (``environment``), in an environment file (``--environment``; an
   environment, because the collection's own ``baseUrl`` variable would win over globals),
   checked to hold every variable the requests use. The two searches share
   ``{{sort}}`` and ``{{query}}``: ``startDate:desc`` sorts interactions by start and error
   codes by the date their open errors were last seen, and ``QUERY`` is a word both find in
   the harness's data (the reads feed's id, in its offers' search text; the type of the
   harness's error code). Newman writes a JSON report, from which the test requires every
   request to have run in order with no failed assertion, listing each failure with its
   response otherwise. It also requires, from the responses in the report, that both
   searches found the harness's data: its interactions on the reads feed, and the code of
   its log's open error.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import REPO_ROOT
from tests.e2e.service_process import ApiKey, ServiceProcess, create_key

pytestmark = pytest.mark.e2e

COLLECTION_ENV_VAR = "SENTOFFERS_POSTMAN_COLLECTION"
COLLECTION_CANDIDATES = (REPO_ROOT / "tests" / "reference" / "sent-offers.postman_collection.json",)
FOLDER = "Offer Management"
NEWMAN_TIMEOUT_S = 180.0

ACCOUNT = "acme"
SKU = "1234"
EXAMPLE_FEED = "vtex.amazon"
"""The feed the collection itself creates (Create Channel) and activates (Activate Feed)."""
ERROR_CODE = "CTLG-001"
QUERY = "mapping"
"""Found by both searches: in the reads feed's id (``harness.mapping-reads``), so in the
search text of its offers, and in the type of ``ERROR_CODE`` (Generic mapping)."""
SORT = "startDate:desc"
READS_CHANNEL = ("harness", "Mapping Reads")

WRITE_REQUESTS = (
    "Create Channel",
    "Activate Feed",
    "List Feeds",
    "Update Feed",
    "Get Feed by feedId",
    "Deactivate Feed",
    "Open Interaction",
    "Get Interaction Data by interactionId",
    "Close Interaction",
    "Create Log",
    "Get Log Data by logId",
)

READ_REQUESTS = (
    "Search Interactions and their Logs",
    "Search Errors",
    "Get Error Code data by errorCodeId",
)

RUN_REQUESTS = WRITE_REQUESTS + READ_REQUESTS

APP_TOKEN_HEADER = {"key": "X-VTEX-API-AppToken", "value": "{{appToken}}"}


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the harness made through the API before newman runs."""

    deactivate_feed: str
    """Activated for the account, to be deactivated by Deactivate Feed."""
    reads_feed: str
    unlogged_interaction: str
    """Open, with no logs: read by Get Interaction, then closed by Close Interaction."""
    open_interaction: str
    """Open: Create Log writes into it."""
    logged_interaction: str
    log_id: str
    """A log of ``logged_interaction``, read by Get Log."""


SEARCH_INTERACTIONS = "Search Interactions and their Logs"
SEARCH_ERRORS = "Search Errors"


def environment(base_url: str, key: ApiKey, prepared: Prepared, now: datetime) -> dict[str, str]:
    """The one environment of the run: a value for each variable the collection uses."""
    return {
        "baseUrl": base_url,
        "accountName": ACCOUNT,
        "apiKey": key.app_key,
        "appToken": key.app_token,
        "feedId": EXAMPLE_FEED,  # Activate Feed's body: the feed Create Channel made
        "query": QUERY,
        "sort": SORT,
        "channels": prepared.reads_feed,
        "channelName": prepared.reads_feed,
        # No brand or category filter: the harness's offers carry neither.
        "brand": "",
        "category": "",
        "errorCategory": "Generic mapping",  # the type of ERROR_CODE, the code of its log
        "scope": "catalog",
        "result": "failure",
        "from": "0",
        "to": "10",
        "fromDate": "2020-01-01T00:00:00Z",
        "toDate": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def path_values(prepared: Prepared) -> dict[str, dict[str, str]]:
    """Per request, the ``url.variable`` values the harness puts in place of the examples.

    Requests not named here keep the collection's values (``vtex.amazon``, SKU ``1234``).
    """
    on_reads_feed = {"feedId": prepared.reads_feed, "skuId": SKU}
    return {
        "Deactivate Feed": {"feedId": prepared.deactivate_feed},
        "Get Interaction Data by interactionId": {
            **on_reads_feed,
            "interactionId": prepared.unlogged_interaction,
        },
        "Close Interaction": {**on_reads_feed, "interactionId": prepared.unlogged_interaction},
        "Create Log": {**on_reads_feed, "interactionId": prepared.open_interaction},
        "Get Log Data by logId": {
            **on_reads_feed,
            "interactionId": prepared.logged_interaction,
            "logId": prepared.log_id,
        },
        "Get Error Code data by errorCodeId": {"errorCodeId": ERROR_CODE},
    }


# Preparing through the public API.


def _expect(response: httpx.Response, status: int, what: str) -> Any:
    if response.status_code != status:
        raise AssertionError(
            f"preparing the run: {what} answered {response.status_code} (expected {status}): "
            f"{response.request.method} {response.request.url}\n{response.text}"
        )
    return response.json() if response.content else None


def _channel_and_feed(client: httpx.Client, vendor: str, name: str) -> str:
    channel = _expect(
        client.post(
            "/channels", json={"vendor": vendor, "name": name, "logo": "https://e2e.test/logo.png"}
        ),
        201,
        f"Create Channel {vendor}/{name}",
    )
    feed_id = str(channel["id"])
    _expect(
        client.post("/feeds", json={"id": feed_id, "affiliateId": "HNS", "salesChannels": "1"}),
        201,
        f"Activate Feed {feed_id}",
    )
    return feed_id


def _open(client: httpx.Client, feed_id: str) -> str:
    interaction = _expect(
        client.post(
            f"/feeds/{feed_id}/skus/{SKU}/interactions",
            json={
                "startDate": "2024-03-01",
                "source": "seller",
                "origin": "catalog",
                "context": "setup",
            },
        ),
        201,
        f"Open Interaction on {feed_id}/{SKU}",
    )
    return str(interaction["id"])


def prepare(base_url: str, key: ApiKey) -> Prepared:
    headers = {
        "X-VTEX-API-AppKey": key.app_key,
        "X-VTEX-API-AppToken": key.app_token,
        "Accept": "application/json",
    }
    with httpx.Client(
        base_url=f"{base_url}/api/sent-offers",
        headers=headers,
        params={"an": ACCOUNT},
        timeout=10.0,
    ) as client:
        deactivate_feed = _channel_and_feed(client, "harness", "Deactivate Me")
        reads_feed = _channel_and_feed(client, *READS_CHANNEL)
        unlogged = _open(client, reads_feed)
        open_one = _open(client, reads_feed)
        logged = _open(client, reads_feed)
        log = _expect(
            client.post(
                f"/feeds/{reads_feed}/skus/{SKU}/interactions/{logged}/logs",
                json={
                    "description": "The channel refused the offer's description",
                    "date": "2024-03-01T10:00:00Z",
                    "type": "failure",
                    "agent": "harness",
                    "evidence": {"request": "POST /offers", "response": "400 Bad Request"},
                    "data": {
                        "externalOfferId": "H-1234",
                        "inventory": "3",
                        "salesPrice": "19.90",
                        "currency": "BRL",
                        "status": "disabled",
                    },
                    "errors": [
                        {
                            "code": ERROR_CODE,
                            "externalCode": "H-42",
                            "title": "Brand not mapped",
                            "description": "The brand of the product is not mapped",
                            "closableOrigins": ["catalog"],
                        }
                    ],
                },
            ),
            201,
            f"Create Log on {reads_feed}/{SKU}/{logged}",
        )
    return Prepared(
        deactivate_feed=deactivate_feed,
        reads_feed=reads_feed,
        unlogged_interaction=unlogged,
        open_interaction=open_one,
        logged_interaction=logged,
        log_id=str(log["id"]),
    )


# The collection the harness runs.


def load_collection() -> dict[str, Any]:
    configured = os.environ.get(COLLECTION_ENV_VAR)
    candidates = (Path(configured),) if configured else COLLECTION_CANDIDATES
    for path in candidates:
        if path.is_file():
            collection: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return collection
    pytest.fail(
        "the official Postman collection was not found; looked at "
        + ", ".join(str(p) for p in candidates)
        + f" (set {COLLECTION_ENV_VAR} to its path)"
    )


def _requests(collection: Mapping[str, Any]) -> list[dict[str, Any]]:
    folders = [item for item in collection["item"] if item.get("name") == FOLDER]
    assert len(folders) == 1, f"the collection has no single {FOLDER!r} folder"
    requests: list[dict[str, Any]] = folders[0]["item"]
    return requests


def harness_collection(
    original: Mapping[str, Any], run: tuple[str, ...], values: Mapping[str, Mapping[str, str]]
) -> dict[str, Any]:
    """A copy of ``original`` holding the requests of ``run``, with the harness's values."""
    collection = copy.deepcopy(dict(original))
    requests = _requests(collection)
    names = [item["name"] for item in requests]
    unknown = (set(run) | set(values)) - set(names)
    assert not unknown, f"not in the collection: {sorted(unknown)}"
    kept = [item for item in requests if item["name"] in run]
    for item in kept:
        request = item["request"]
        url = request["url"]
        variables = {variable["key"]: variable for variable in url.get("variable", [])}
        for key, value in values.get(item["name"], {}).items():
            assert key in variables, f"{item['name']} has no path variable {key!r}"
            variables[key]["value"] = value
        for parameter in url.get("query", []):
            # Create Channel spells its account as the bare word, not as the variable.
            if parameter.get("key") == "an" and parameter.get("value") == "accountName":
                parameter["value"] = "{{accountName}}"
        request["header"] = [*request.get("header", []), dict(APP_TOKEN_HEADER)]
    requests[:] = kept
    return collection


def variables_used(collection: Mapping[str, Any]) -> set[str]:
    """The ``{{variables}}`` of the collection's requests and of its auth."""
    text = json.dumps([collection.get("auth"), [item["request"] for item in _requests(collection)]])
    return set(re.findall(r"\{\{(\w+)\}\}", text))


def environment_file(values: Mapping[str, str]) -> dict[str, Any]:
    """A Postman environment holding ``values``."""
    return {
        "name": "sentoffers harness",
        "values": [
            {"key": key, "value": value, "type": "default", "enabled": True}
            for key, value in values.items()
        ],
    }


def _events(collection: Mapping[str, Any]) -> dict[str, str]:
    return {item["name"]: json.dumps(item.get("event")) for item in _requests(collection)}


# Reading newman's report.


def _body(response: Mapping[str, Any]) -> str:
    stream = response.get("stream")
    if isinstance(stream, dict) and isinstance(stream.get("data"), list):
        text = bytes(stream["data"]).decode("utf-8", errors="replace")
    else:
        text = str(stream or "")
    return text if len(text) <= 1500 else text[:1500] + "..."


def _describe_response(execution: Mapping[str, Any]) -> str:
    request = execution.get("request", {})
    url = request.get("url", {})
    if isinstance(url, dict):
        query = "&".join(
            f"{q['key']}={q.get('value') or ''}"
            for q in url.get("query", [])
            if not q.get("disabled")
        )
        target = "/" + "/".join(url.get("path", [])) + (f"?{query}" if query else "")
    else:
        target = str(url)
    if execution.get("requestError"):
        return f"    {request.get('method')} {target} -> request error: {execution['requestError']}"
    response = execution.get("response")
    if not response:
        return f"    {request.get('method')} {target} -> no response"
    content_type = next(
        (h["value"] for h in response.get("header", []) if h["key"].lower() == "content-type"),
        "(none)",
    )
    return (
        f"    {request.get('method')} {target} -> {response.get('code')} {response.get('status')}"
        f", Content-Type: {content_type}\n    body: {_body(response)}"
    )


def failures_of(report: Mapping[str, Any]) -> list[str]:
    """Each failure as ``request: assertion: message``, then the response it was about."""
    run = report["run"]
    executions = {e["item"]["name"]: e for e in run.get("executions", [])}
    lines = []
    for failure in run.get("failures", []):
        name = failure.get("source", {}).get("name", "(collection)")
        error = failure.get("error", {})
        what = error.get("test") or error.get("name", "error")
        lines.append(f"- {name}: {what}: {error.get('message')}")
        if name in executions:
            lines.append(_describe_response(executions[name]))
    return lines


def _json_of(execution: Mapping[str, Any]) -> Any:
    stream = (execution.get("response") or {}).get("stream")
    if not (isinstance(stream, dict) and isinstance(stream.get("data"), list)):
        return None
    try:
        return json.loads(bytes(stream["data"]).decode("utf-8"))
    except ValueError:
        return None


def search_misses(report: Mapping[str, Any], prepared: Prepared) -> list[str]:
    """What the searches should have found, by the responses newman recorded, and did not."""
    executions = {e["item"]["name"]: e for e in report["run"].get("executions", [])}
    misses = []
    if SEARCH_INTERACTIONS in executions:
        page = _json_of(executions[SEARCH_INTERACTIONS])
        items = page.get("items") if isinstance(page, dict) else None
        found = {item.get("id") for item in items or [] if isinstance(item, dict)}
        expected = {prepared.unlogged_interaction, prepared.logged_interaction}
        if not expected <= found:
            misses.append(
                f"{SEARCH_INTERACTIONS} did not find the harness's interactions "
                f"{sorted(expected - found)}:\n"
                + _describe_response(executions[SEARCH_INTERACTIONS])
            )
    if SEARCH_ERRORS in executions:
        page = _json_of(executions[SEARCH_ERRORS])
        items = page.get("items") if isinstance(page, dict) else None
        codes = {item.get("id"): item for item in items or [] if isinstance(item, dict)}
        if codes.get(ERROR_CODE, {}).get("openErrors", 0) < 1:
            misses.append(
                f"{SEARCH_ERRORS} did not find the open {ERROR_CODE} of the harness's log:\n"
                + _describe_response(executions[SEARCH_ERRORS])
            )
    return misses


def summary_of(report: Mapping[str, Any]) -> str:
    stats = report["run"]["stats"]
    parts = (
        f"{key} {stats[key]['total']} total/{stats[key]['failed']} failed"
        for key in ("requests", "assertions", "testScripts")
    )
    return "newman: " + ", ".join(parts)


@dataclass(frozen=True, slots=True)
class NewmanRun:
    report: dict[str, Any] | None
    output: str


def run_newman(
    newman: Path, collection_path: Path, environment_path: Path, report_path: Path
) -> NewmanRun:
    command = [
        str(newman),
        "run",
        str(collection_path),
        "--environment",
        str(environment_path),
        "--reporters",
        "cli,json",
        "--reporter-json-export",
        str(report_path),
        "--color",
        "off",
        "--disable-unicode",
        "--timeout-request",
        "30000",
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=NEWMAN_TIMEOUT_S,
        cwd=REPO_ROOT,
        check=False,
    )
    output = f"$ newman exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    if not report_path.exists():
        return NewmanRun(report=None, output=output)
    return NewmanRun(report=json.loads(report_path.read_text(encoding="utf-8")), output=output)


@pytest.fixture
def api_key(service: ServiceProcess) -> ApiKey:
    return create_key(service.database_url, ACCOUNT, role="connector")


@pytest.fixture
def prepared(service: ServiceProcess, api_key: ApiKey) -> Prepared:
    try:
        return prepare(service.base_url, api_key)
    except AssertionError as error:
        pytest.fail(f"{error}\n\n{service.log_tail()}", pytrace=False)


def test_official_postman_collection_passes(
    newman: Path, service: ServiceProcess, api_key: ApiKey, prepared: Prepared, tmp_path: Path
) -> None:
    original = load_collection()
    collection = harness_collection(original, RUN_REQUESTS, path_values(prepared))
    kept_events = _events(collection)
    original_events = _events(original)
    assert all(kept_events[name] == original_events[name] for name in kept_events), (
        "the harness must never change a test script"
    )
    collection_path = tmp_path / "sent-offers.harness.postman_collection.json"
    collection_path.write_text(json.dumps(collection, indent=2), encoding="utf-8")

    variables = environment(service.base_url, api_key, prepared, datetime.now(UTC))
    missing = variables_used(collection) - set(variables)
    assert not missing, f"the environment has no value for {sorted(missing)}"
    environment_path = tmp_path / "sent-offers.harness.postman_environment.json"
    environment_path.write_text(json.dumps(environment_file(variables), indent=2), "utf-8")
    result = run_newman(newman, collection_path, environment_path, tmp_path / "newman-report.json")
    if result.report is None:
        pytest.fail(
            f"newman wrote no report\n{result.output[-6000:]}\n\n{service.log_tail()}",
            pytrace=False,
        )
    report = result.report
    summary = summary_of(report)
    print(summary)

    executed = [e["item"]["name"] for e in report["run"]["executions"]]
    without_assertions = [
        e["item"]["name"] for e in report["run"]["executions"] if not e.get("assertions")
    ]
    failures = failures_of(report)
    problems = []
    if executed != list(RUN_REQUESTS):
        problems.append(f"newman ran {executed}, expected {list(RUN_REQUESTS)}")
    if without_assertions:
        problems.append(f"requests that ran no assertion: {without_assertions}")
    if failures:
        problems.append("failures:\n" + "\n".join(failures))
    problems += search_misses(report, prepared)
    if problems:
        pytest.fail(
            f"{summary}\n" + "\n".join(problems) + f"\n\n{service.log_tail()}", pytrace=False
        )
    stats = report["run"]["stats"]
    assert stats["assertions"]["failed"] == 0
    assert stats["assertions"]["total"] > 0
