"""The SDK's helpers that need no service: error entries, evidence, failure logs built from
exceptions and channel answers, and credentials."""

from __future__ import annotations

import json

import httpx
import pytest

from sentoffers.client import (
    ChannelError,
    KnownCode,
    LogType,
    Origin,
    SentOffersCredentials,
    error_entry,
    evidence,
    exception_failure,
    unmapped_failure,
)
from sentoffers.client._entries import EVIDENCE_LIMIT
from sentoffers.domain.seed_error_codes import SEED_ERROR_CODES

CHANNEL = "https://channel.example/items/1"


def refused_price() -> tuple[httpx.Request, httpx.Response]:
    request = httpx.Request("PUT", CHANNEL, json={"price": 10})
    response = httpx.Response(422, json={"message": "price below the floor"}, request=request)
    return request, response


# --- error codes and entries --------------------------------------------------------------


def test_known_codes_are_exactly_the_codes_the_service_is_seeded_with() -> None:
    assert {code.value for code in KnownCode} == {code.id for code in SEED_ERROR_CODES}


def test_an_error_entry_is_a_known_code_with_the_connectors_suffix() -> None:
    entry = error_entry(KnownCode.CTLG_006, "001", description="Description over 4000 characters")
    assert (entry.code, entry.description) == ("CTLG-006-001", "Description over 4000 characters")
    assert error_entry(KnownCode.PRICE_001).code == "PRICE-001"
    assert error_entry(" CTLG-009 ", "A-2").code == "CTLG-009-A-2"


def test_a_suffix_loses_its_surrounding_blanks_and_dashes() -> None:
    assert error_entry(KnownCode.CTLG_006, " -001- ").code == "CTLG-006-001"


@pytest.mark.parametrize("suffix", ["", "-", "0 1", "a_b", "001/2", "é1", "1--2"])
def test_a_suffix_of_anything_but_letters_digits_and_inner_dashes_is_refused(suffix: str) -> None:
    with pytest.raises(ValueError, match="suffix"):
        error_entry(KnownCode.CTLG_006, suffix)


def test_an_error_entry_carries_its_details_and_closable_origins() -> None:
    entry = error_entry(
        "MELI-4031",
        title="Price below the floor",
        external_code="4031",
        closable_origins=["Price", Origin.CATALOG],
    )
    assert (entry.title, entry.external_code) == ("Price below the floor", "4031")
    assert entry.closable_origins == [Origin.PRICE, Origin.CATALOG]
    assert error_entry(KnownCode.AUTH_001).closable_origins == []
    with pytest.raises(ValueError, match="origin"):
        error_entry(KnownCode.AUTH_001, closable_origins=["shipping"])


def test_an_error_entry_is_sent_with_the_contracts_camel_case_keys() -> None:
    entry = error_entry(KnownCode.CTLG_006, "1", external_code="X", closable_origins=["catalog"])
    assert entry.model_dump(mode="json", by_alias=True, exclude_none=True) == {
        "code": "CTLG-006-1",
        "externalCode": "X",
        "closableOrigins": ["catalog"],
    }


# --- evidence -----------------------------------------------------------------------------


def test_evidence_of_httpx_requests_and_responses_reads_method_url_status_and_body() -> None:
    request, response = refused_price()
    proof = evidence(request, response)
    assert proof.request == f'PUT {CHANNEL}\n{{"price":10}}'
    assert proof.response == '422 Unprocessable Entity\n{"message":"price below the floor"}'
    assert evidence(httpx.Request("GET", CHANNEL)).request == f"GET {CHANNEL}"


def test_evidence_of_an_unread_stream_keeps_what_can_be_read_without_reading_it() -> None:
    streamed = httpx.Request("POST", CHANNEL, content=iter([b"never read"]))
    assert evidence(streamed).request == f"POST {CHANNEL}"
    unread = httpx.Response(502, stream=httpx.ByteStream(b"bad gateway"))
    assert evidence(response=unread).response == "502 Bad Gateway"


def test_evidence_of_bytes_text_and_data() -> None:
    assert evidence(b"caf\xc3\xa9 \xff", "as sent") == evidence("café \ufffd", "as sent")
    data = evidence({"sku": 1, "price": "10.00"}, ["refused", {"code": 4031}])
    assert json.loads(data.request or "") == {"sku": 1, "price": "10.00"}
    assert json.loads(data.response or "") == ["refused", {"code": 4031}]
    assert evidence({"name": "Tênis"}).request == '{"name": "Tênis"}'
    assert (evidence().request, evidence().response) == (None, None)


def test_evidence_is_cut_at_its_limit() -> None:
    long = "x" * (EVIDENCE_LIMIT + 10)
    assert evidence(long).request == "x" * EVIDENCE_LIMIT


# --- failure logs -------------------------------------------------------------------------


def test_an_unmapped_failure_is_ntmap_001_with_the_raw_answer_as_evidence() -> None:
    raw = '{"message": "Price 10.00 is below the floor 12.00", "code": 4031}'
    log = unmapped_failure(raw, request="PUT /prices/1", external_code="4031", agent="conn")
    assert (log.type, log.agent) == (LogType.FAILURE, "conn")
    assert log.description == "Price 10.00 is below the floor 12.00"
    assert (log.evidence.request, log.evidence.response) == ("PUT /prices/1", raw)
    [entry] = log.errors
    assert (entry.code, entry.external_code) == ("NTMAP-001", "4031")
    assert entry.description == log.description


@pytest.mark.parametrize(
    ("answer", "summary"),
    [
        ({"error_description": " token expired "}, "token expired"),
        ({"detail": "no such item", "title": "Not found"}, "no such item"),
        ({"message": "", "title": "Refused"}, "Refused"),
        ("Service Unavailable\nretry later", "Service Unavailable"),
        ({"status": 500}, '{"status": 500}'),
        ("", "the channel refused the offer"),
    ],
)
def test_an_unmapped_failure_says_what_the_channel_said(answer: object, summary: str) -> None:
    assert unmapped_failure(answer).description == summary


def test_an_unmapped_failure_takes_the_description_it_is_given() -> None:
    log = unmapped_failure({"message": "raw"}, description="Price refused", title="Refused")
    assert (log.description, log.errors[0].title) == ("Price refused", "Refused")


def test_an_unmapped_failure_of_an_httpx_response_says_its_message() -> None:
    request, response = refused_price()
    assert unmapped_failure(response, request=request).description == "price below the floor"


def test_a_channel_error_carries_its_entry_and_evidence() -> None:
    request, response = refused_price()
    error = ChannelError(
        "Price below the floor", code=KnownCode.PRICE_001, suffix="7", request=request,
        response=response, external_code="4031",
    )  # fmt: skip
    log = exception_failure(error, agent="conn")
    assert (log.type, log.description, log.agent) == (
        LogType.FAILURE,
        "Price below the floor",
        "conn",
    )
    [entry] = log.errors
    assert (entry.code, entry.external_code) == ("PRICE-001-7", "4031")
    assert log.evidence == evidence(request, response)
    assert ChannelError("Something new").entry.code == "NTMAP-001"


def test_any_other_exception_is_ntmap_001_with_its_type_as_external_code() -> None:
    log = exception_failure(ValueError("price must be positive"))
    [entry] = log.errors
    assert (entry.code, entry.external_code) == ("NTMAP-001", "ValueError")
    assert log.description == entry.description == "price must be positive"
    assert (log.evidence.request, log.evidence.response) == (
        None,
        "ValueError: price must be positive",
    )
    assert exception_failure(KeyError()).description == "KeyError"


def test_an_httpx_error_gives_the_request_and_the_answer_as_evidence() -> None:
    request, response = refused_price()
    status = exception_failure(httpx.HTTPStatusError("refused", request=request, response=response))
    assert status.evidence == evidence(request, response)
    assert status.errors[0].external_code == "HTTPStatusError"
    lost = exception_failure(httpx.ConnectError("connection refused", request=request))
    assert (lost.evidence.request, lost.evidence.response) == (
        evidence(request).request,
        "ConnectError: connection refused",
    )
    detached = exception_failure(httpx.ConnectError("connection refused"))
    assert (detached.evidence.request, detached.evidence.response) == (
        None,
        "ConnectError: connection refused",
    )


# --- credentials --------------------------------------------------------------------------


def test_an_app_key_and_token_travel_in_the_vtex_headers() -> None:
    credentials = SentOffersCredentials(app_key="vtexappkey-acme-XYZ", app_token="secret")
    assert credentials.headers() == {
        "X-VTEX-API-AppKey": "vtexappkey-acme-XYZ",
        "X-VTEX-API-AppToken": "secret",
    }


def test_a_vtex_id_token_travels_in_its_cookie_header() -> None:
    assert SentOffersCredentials(token="eyJ.x.y").headers() == {"VtexIdclientAutCookie": "eyJ.x.y"}


def test_a_key_pair_wins_over_a_token_given_with_it() -> None:
    both = SentOffersCredentials(app_key="k", app_token="t", token="eyJ")
    assert set(both.headers()) == {"X-VTEX-API-AppKey", "X-VTEX-API-AppToken"}


@pytest.mark.parametrize(
    "fields",
    [{}, {"app_key": "k"}, {"app_token": "t"}, {"app_key": "k", "token": "eyJ"}, {"token": ""}],
)
def test_credentials_need_a_whole_key_pair_or_a_token(fields: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"app_key|token"):
        SentOffersCredentials(**fields)


def test_credentials_never_show_their_secrets() -> None:
    pair = SentOffersCredentials(app_key="vtexappkey-acme-XYZ", app_token="s3cret")
    assert repr(pair) == "SentOffersCredentials(app_key='vtexappkey-acme-XYZ', app_token=***)"
    assert "s3cret" not in repr(SentOffersCredentials(token="s3cret"))


def test_credentials_from_the_environment() -> None:
    pair = {"SENTOFFERS_APP_KEY": "k", "SENTOFFERS_APP_TOKEN": "t", "SENTOFFERS_VTEX_TOKEN": "x"}
    assert SentOffersCredentials.from_env(pair) == SentOffersCredentials(app_key="k", app_token="t")
    token = {"SENTOFFERS_VTEX_TOKEN": "eyJ"}
    assert SentOffersCredentials.from_env(token) == SentOffersCredentials(token="eyJ")
    with pytest.raises(ValueError, match="go together"):
        SentOffersCredentials.from_env({"SENTOFFERS_APP_KEY": "k", "SENTOFFERS_VTEX_TOKEN": "x"})
    with pytest.raises(ValueError, match="token"):
        SentOffersCredentials.from_env({})


def test_credentials_from_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SENTOFFERS_APP_KEY", "SENTOFFERS_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SENTOFFERS_VTEX_TOKEN", "eyJ")
    assert SentOffersCredentials.from_env() == SentOffersCredentials(token="eyJ")
