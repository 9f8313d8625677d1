"""The contract's searches through the HTTP API: Search Interactions and Search Errors.

Every test runs on SQLite and on PostgreSQL (the ``database_url`` fixture).
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from sentoffers.domain.seed_error_codes import SEED_ERROR_CODES
from tests.integration.conftest import ACCOUNT, FEED, Api
from tests.integration.conftest import report as unified_call

NETSHOES = "vtex.netshoes"
INTERACTIONS = "/search/interactions"
ERRORS = "/search/errors"
SEEDED_IDS = sorted(code.id for code in SEED_ERROR_CODES)


def report(api: Api, sku: str, type_: str = "success", **kwargs: Any) -> str:
    """One unified call on ``sku``; the interaction's id."""
    return str(unified_call(api, sku, type_, **kwargs)["id"])


def failing(api: Api, sku: str, *codes: str, origin: str = "catalog", **kwargs: Any) -> str:
    errors = [{"code": code, "description": f"{code} says no"} for code in codes]
    return report(api, sku, "failure", origin=origin, errors=errors, **kwargs)


def second_feed(api: Api) -> None:
    assert api.channel(name="Netshoes").status_code == 201
    assert api.activate(NETSHOES).status_code == 201


def deactivate(api: Api, feed: str) -> None:
    assert api.request("DELETE", f"/feeds/{feed}").status_code == 204


def search(api: Api, path: str, **params: Any) -> dict[str, Any]:
    response = api.get(path, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def found(api: Api, **params: Any) -> list[str]:
    """The ids of the interactions Search Interactions answers."""
    return [item["id"] for item in search(api, INTERACTIONS, **params)["items"]]


def codes(api: Api, **params: Any) -> list[str]:
    """The ids of the error codes Search Errors answers."""
    return [item["id"] for item in search(api, ERRORS, **params)["items"]]


def problems(response: Any) -> list[dict[str, Any]]:
    return list(response.json()["errors"])


# --- Search Interactions ------------------------------------------------------------------


def test_search_interactions_answers_interactions_with_their_log_objects(ready: Api) -> None:
    interaction = ready.open("1")
    ready.log(
        "1",
        interaction,
        {"type": "information", "description": "validating", "date": "2024-03-01T10:00:00Z"},
    )
    failure = ready.log(
        "1",
        interaction,
        {
            "type": "failure",
            "description": "rejected",
            "date": "2024-03-01T10:00:01Z",
            "evidence": {"request": "GET /x", "response": "400"},
            "errors": [{"code": "CTLG-006-001", "title": "HTML", "closableOrigins": ["catalog"]}],
        },
    ).json()
    ready.close("1", interaction)
    page = search(ready, INTERACTIONS)
    assert set(page) == {"items", "paging"}
    assert page["paging"] == {"total": 1, "totalIsExact": True, "from": 0, "to": 0}
    [item] = page["items"]
    assert item["id"] == interaction
    assert (item["account"], item["feedId"], item["skuId"]) == (ACCOUNT, FEED, "1")
    assert (item["state"], item["result"], item["origin"], item["context"], item["source"]) == (
        "closed",
        "failure",
        "catalog",
        "setup",
        "seller",
    )
    assert item["startDate"] == "2024-03-01T00:00:00.000Z"
    assert item["closedAt"].endswith("Z")
    logs = item["logs"]
    assert isinstance(logs, list)
    assert [(log["type"], log["description"]) for log in logs] == [
        ("information", "validating"),
        ("failure", "rejected"),
    ]
    last = logs[1]
    assert last["id"] == failure["id"]
    assert last["interactionId"] == interaction
    assert last["date"] == "2024-03-01T10:00:01.000Z"
    assert last["evidence"] == {"request": "GET /x", "response": "400"}
    assert last["errors"] == [
        {
            "code": "CTLG-006-001",
            "title": "HTML",
            "closableOrigins": ["catalog"],
            "errorCodeId": "CTLG-006",
            "mapped": True,
        }
    ]


def test_search_interactions_lists_an_interaction_without_logs_with_an_empty_log_list(
    ready: Api,
) -> None:
    interaction = ready.open("1")
    [item] = search(ready, INTERACTIONS)["items"]
    assert (item["id"], item["state"], item["result"], item["logs"]) == (
        interaction,
        "open",
        "processing",
        [],
    )
    assert "closedAt" not in item


def test_search_interactions_is_sorted_by_start_date_newest_first_by_default(
    ready: Api,
) -> None:
    middle = report(ready, "1", date="2024-03-02T10:00:00Z")
    newest = report(ready, "2", date="2024-03-03T10:00:00Z")
    oldest = report(ready, "3", date="2024-03-01T10:00:00Z")
    assert found(ready) == [newest, middle, oldest]
    assert found(ready, sort="startDate:asc") == [oldest, middle, newest]
    assert found(ready, sort="skuId:asc") == [middle, newest, oldest]


def test_search_interactions_sorts_by_result_and_origin(ready: Api) -> None:
    success = report(ready, "1", origin="price", date="2024-03-01T10:00:00Z")
    failure = failing(ready, "2", "CTLG-001", origin="catalog", date="2024-03-02T10:00:00Z")
    notice = report(ready, "3", "information", origin="inventory", date="2024-03-03T10:00:00Z")
    assert found(ready, sort="result:asc") == [failure, notice, success]
    assert found(ready, sort="origin:desc") == [success, notice, failure]


def test_search_interactions_sort_open_interactions_after_closed_ones_by_closed_at(
    ready: Api,
) -> None:
    first = report(ready, "1")
    still_open = ready.open("2")
    second = report(ready, "3")
    assert found(ready, sort="closedAt:asc") == [first, second, still_open]
    assert found(ready, sort="closedAt:desc") == [second, first, still_open]


def test_search_interactions_rejects_an_invalid_sort_listing_the_choices(ready: Api) -> None:
    response = ready.get(INTERACTIONS, params={"sort": "name:asc"})
    assert response.status_code == 400
    [error] = problems(response)
    assert (error["code"], error["field"]) == ("invalid_sort", "sort")
    for choice in ("closedAt", "origin", "result", "skuId", "startDate"):
        assert choice in error["message"]


def test_search_interactions_pages_from_to_inclusive(ready: Api) -> None:
    ids = [report(ready, str(n), date=f"2024-03-0{n}T10:00:00Z") for n in range(1, 6)]
    newest_first = list(reversed(ids))
    page = search(ready, INTERACTIONS, **{"from": 1, "to": 3})
    assert [item["id"] for item in page["items"]] == newest_first[1:4]
    assert page["paging"] == {"total": 5, "totalIsExact": True, "from": 1, "to": 3}
    tail = search(ready, INTERACTIONS, **{"from": 4, "to": 20})
    assert [item["id"] for item in tail["items"]] == newest_first[4:]
    assert tail["paging"] == {"total": 5, "totalIsExact": True, "from": 4, "to": 4}
    assert ready.get(INTERACTIONS, params={"from": 3, "to": 2}).status_code == 400
    assert ready.get(INTERACTIONS, params={"from": 0, "to": 100}).status_code == 400


def test_search_interactions_filters_by_a_comma_list_of_channels(ready: Api) -> None:
    second_feed(ready)
    amazon = report(ready, "1")
    netshoes = report(ready, "1", feed=NETSHOES)
    assert found(ready, channels=FEED) == [amazon]
    assert found(ready, channels=NETSHOES) == [netshoes]
    assert sorted(found(ready, channels=f"{FEED},{NETSHOES}")) == sorted([amazon, netshoes])
    assert found(ready, channels="vtex.nowhere") == []


def test_search_interactions_hides_the_interactions_of_a_deactivated_feed(ready: Api) -> None:
    second_feed(ready)
    amazon = report(ready, "1")
    netshoes = report(ready, "2", feed=NETSHOES)
    deactivate(ready, NETSHOES)
    assert found(ready) == [amazon]
    assert found(ready, channels=NETSHOES) == []
    assert found(ready, q="2") == []
    assert search(ready, INTERACTIONS)["paging"]["total"] == 1
    assert ready.activate(NETSHOES).status_code == 201
    assert found(ready, channels=NETSHOES) == [netshoes]


def test_search_interactions_filters_by_scope_the_interactions_origin(ready: Api) -> None:
    catalog = report(ready, "1", origin="catalog", date="2024-03-01T10:00:00Z")
    price = report(ready, "1", origin="price", date="2024-03-02T10:00:00Z")
    inventory = report(ready, "1", origin="inventory", date="2024-03-03T10:00:00Z")
    assert found(ready, scope="catalog") == [catalog]
    assert found(ready, scope="Price") == [price]
    assert found(ready, scope="price,inventory") == [inventory, price]
    response = ready.get(INTERACTIONS, params={"scope": "shipping"})
    assert response.status_code == 400
    assert problems(response)[0]["field"] == "scope"


def test_search_interactions_filters_by_a_comma_list_of_results(ready: Api) -> None:
    success = report(ready, "1", date="2024-03-01T10:00:00Z")
    failure = failing(ready, "2", "CTLG-001", date="2024-03-02T10:00:00Z")
    notice = report(ready, "3", "information", date="2024-03-03T10:00:00Z")
    processing = ready.open("4")  # starts on 2024-03-01
    assert found(ready, result="success") == [success]
    assert found(ready, result="failure") == [failure]
    assert found(ready, result="notification") == [notice]
    assert found(ready, result="processing") == [processing]
    assert found(ready, result="Failure,notification") == [notice, failure]
    response = ready.get(INTERACTIONS, params={"result": "success,done"})
    assert response.status_code == 400
    assert problems(response)[0]["field"] == "result"


def test_search_interactions_filters_by_start_date_in_iso_and_day_formats(ready: Api) -> None:
    first = report(ready, "1", date="2024-03-01T10:00:00Z")
    second = report(ready, "2", date="2024-03-02T10:00:00Z")
    third = report(ready, "3", date="2024-03-03T10:00:00Z")
    assert found(ready, fromDate="2024-03-02") == [third, second]
    assert found(ready, fromDate="2024-03-02T10:00:00Z") == [third, second]
    assert found(ready, fromDate="2024-03-02T10:00:01Z") == [third]
    assert found(ready, toDate="2024-03-02T10:00:00Z") == [second, first]
    assert found(ready, toDate="2024-03-02T09:59:59.999Z") == [first]
    assert found(ready, fromDate="2024-03-01T12:00:00", toDate="2024-03-03T09:00:00Z") == [second]
    assert found(ready, fromDate="2024-03-02T12:00:00+02:00") == [third, second]
    assert found(ready, fromDate="2024-03-04") == []


def test_search_interactions_to_date_given_as_a_day_includes_that_whole_day(ready: Api) -> None:
    first = report(ready, "1", date="2024-03-01T10:00:00Z")
    second = report(ready, "2", date="2024-03-02T10:00:00Z")
    report(ready, "3", date="2024-03-03T10:00:00Z")
    assert found(ready, toDate="2024-03-02") == [second, first]
    assert found(ready, fromDate="2024-03-02", toDate="2024-03-02") == [second]


def test_search_interactions_rejects_a_bad_date_naming_the_field(ready: Api) -> None:
    response = ready.get(INTERACTIONS, params={"fromDate": "yesterday"})
    assert response.status_code == 400
    [error] = problems(response)
    assert error["field"] == "fromDate"
    assert "yesterday" in error["message"]
    both = ready.get(
        INTERACTIONS, params={"fromDate": "2024-13-01", "toDate": "soon", "result": "done"}
    )
    assert both.status_code == 400
    assert {e["field"] for e in problems(both)} == {"fromDate", "toDate", "result"}


def test_search_interactions_filters_by_the_offers_brand_and_category(ready: Api) -> None:
    acme_shirt = report(ready, "1", brand="Acme", category="Shirts", date="2024-03-01")
    acme_shoe = report(ready, "2", brand="Acme", category="Shoes", date="2024-03-02")
    globex_shirt = report(ready, "3", brand="Globex", category="Shirts", date="2024-03-03")
    plain = report(ready, "4", date="2024-03-04")
    assert found(ready, brand="Acme") == [acme_shoe, acme_shirt]
    assert found(ready, category="Shirts") == [globex_shirt, acme_shirt]
    assert found(ready, brand="Acme", category="Shirts") == [acme_shirt]
    assert found(ready, brand="Initech") == []
    assert found(ready, brand="", category="") == [plain, globex_shirt, acme_shoe, acme_shirt]


def test_search_interactions_brand_covers_every_interaction_of_the_offer(ready: Api) -> None:
    before = report(ready, "1", date="2024-03-01")
    tagging = report(ready, "1", brand="Acme", date="2024-03-02")
    assert found(ready, brand="Acme") == [tagging, before]


def test_search_interactions_q_matches_the_sku_id(ready: Api) -> None:
    one = report(ready, "1234", date="2024-03-01")
    report(ready, "5678", date="2024-03-02")
    assert found(ready, q="1234") == [one]
    assert found(ready, q=" 1234 ") == [one]


def test_search_interactions_q_matches_the_external_offer_id(ready: Api) -> None:
    tagged = report(ready, "1", externalOfferId="MLB998877", date="2024-03-01")
    report(ready, "2", externalOfferId="MLB112233", date="2024-03-02")
    later = report(ready, "1", date="2024-03-03")
    assert found(ready, q="MLB998877") == [later, tagged]


def test_search_interactions_q_matches_part_of_the_offer_name_whatever_its_case(
    ready: Api,
) -> None:
    shirt = report(ready, "1", name="Blue Cotton Shirt", date="2024-03-01")
    report(ready, "2", name="Red Wool Hat", date="2024-03-02")
    assert found(ready, q="cotton") == [shirt]
    assert found(ready, q="BLUE COTTON") == [shirt]


def test_search_interactions_q_matches_words_of_a_log_description(ready: Api) -> None:
    rejected = failing(
        ready,
        "1",
        "CTLG-001",
        description="Channel rejected the brand mapping",
        date="2024-03-01",
    )
    report(ready, "2", description="All good", date="2024-03-02")
    assert found(ready, q="brand mapping") == [rejected]
    assert found(ready, q="REJECTED") == [rejected]
    assert found(ready, q="100%") == []
    assert found(ready, q="nothing like it") == []


def test_search_interactions_q_takes_percent_and_underscore_literally(ready: Api) -> None:
    percent = report(ready, "1", description="discount of 100% refused", date="2024-03-01")
    report(ready, "2", description="discount of 1000 refused", date="2024-03-02")
    underscore = report(ready, "3", description="field sku_ref missing", date="2024-03-03")
    report(ready, "4", description="field skuXref missing", date="2024-03-04")
    assert found(ready, q="100%") == [percent]
    assert found(ready, q="sku_ref") == [underscore]


def test_search_interactions_answer_only_the_keys_account(ready: Api, make_api: Any) -> None:
    report(ready, "1")
    other = make_api(account="globex")
    assert search(other, INTERACTIONS)["items"] == []
    assert other.get(INTERACTIONS, params={"an": ACCOUNT}).status_code == 403


# --- Search Errors: the error-code list ---------------------------------------------------


def test_search_errors_without_offer_filters_lists_the_seventeen_seeded_codes(
    ready: Api,
) -> None:
    page = search(ready, ERRORS, **{"from": 0, "to": 99})
    assert [item["id"] for item in page["items"]] == SEEDED_IDS
    assert len(SEEDED_IDS) == 17
    assert page["paging"] == {"total": 17, "totalIsExact": True, "from": 0, "to": 16}
    by_id = {item["id"]: item for item in page["items"]}
    assert by_id["CTLG-006"] == {
        "id": "CTLG-006",
        "type": "Description",
        "description": next(c.description for c in SEED_ERROR_CODES if c.id == "CTLG-006"),
        "solutionText": "Fix description",
        "solutionLink": "http://{accountName}.myvtex.com/admin/Site/ProdutoForm.aspx?id={productId}",
    }
    assert "openErrors" not in by_id["CTLG-006"]
    assert "offersAffected" not in by_id["CTLG-006"]


def test_search_errors_lists_codes_by_id_ascending_by_default(
    ready: Api,
) -> None:
    page = search(ready, ERRORS)
    assert [item["id"] for item in page["items"]] == SEEDED_IDS
    assert codes(ready, sort="id:desc") == list(reversed(SEEDED_IDS))


def test_search_errors_sorts_codes_by_type(ready: Api) -> None:
    by_type = codes(ready, sort="type:asc", to=99)
    types = {c.id: c.type.lower() for c in SEED_ERROR_CODES}
    assert [types[code] for code in by_type] == sorted(types[code] for code in by_type)
    assert by_type[:2] == ["CTLG-003", "AUTH-001"]


def test_search_errors_rejects_an_invalid_sort(ready: Api) -> None:
    response = ready.get(ERRORS, params={"sort": "description:asc"})
    assert response.status_code == 400
    [error] = problems(response)
    assert (error["code"], error["field"]) == ("invalid_sort", "sort")
    assert "openErrors" in error["message"]


def test_search_errors_pages_the_code_list_from_to_inclusive(ready: Api) -> None:
    page = search(ready, ERRORS, **{"from": 2, "to": 5})
    assert [item["id"] for item in page["items"]] == SEEDED_IDS[2:6]
    assert page["paging"] == {"total": 17, "totalIsExact": True, "from": 2, "to": 5}
    tail = search(ready, ERRORS, **{"from": 15, "to": 30})
    assert [item["id"] for item in tail["items"]] == SEEDED_IDS[15:]
    assert tail["paging"]["to"] == 16
    assert ready.get(ERRORS, params={"from": 5, "to": 4}).status_code == 400


def test_search_errors_q_matches_the_codes_id_type_or_description(ready: Api) -> None:
    assert codes(ready, q="ctlg-01") == ["CTLG-010", "CTLG-011", "CTLG-012"]
    assert codes(ready, q="Inventory") == ["INVNT-001"]
    assert codes(ready, q="mapping") == ["CTLG-001", "CTLG-002", "CTLG-003", "CTLG-004"]
    assert codes(ready, q="HTML") == ["CTLG-006"]
    assert codes(ready, q="no code says this") == []
    page = search(ready, ERRORS, q="mapping")
    assert page["paging"]["total"] == 4


def test_search_errors_error_category_is_the_codes_type_whatever_its_case(
    ready: Api,
) -> None:
    assert codes(ready, errorCategory="Generic mapping") == ["CTLG-001"]
    assert codes(ready, errorCategory="generic MAPPING") == ["CTLG-001"]
    assert codes(ready, errorCategory="Authorization") == ["AUTH-001", "AUTH-002"]
    assert codes(ready, errorCategory="mapping") == []
    assert codes(ready, errorCategory="Authorization", q="resource") == ["AUTH-002"]


def test_search_errors_empty_query_values_mean_no_filter(ready: Api) -> None:
    page = search(
        ready,
        ERRORS,
        q="",
        channels="",
        brand="",
        category="",
        errorCategory="",
        sort="",
        **{"from": 0, "to": 99},
    )
    assert [item["id"] for item in page["items"]] == SEEDED_IDS
    assert "openErrors" not in page["items"][0]


# --- Search Errors: narrowed by offers ----------------------------------------------------


def error_counts(api: Api, **params: Any) -> dict[str, int]:
    """Per code, its open errors."""
    items = search(api, ERRORS, **params)["items"]
    return {item["id"]: item["openErrors"] for item in items}


def test_search_errors_by_channel_lists_the_codes_open_on_its_offers_with_counts(
    ready: Api,
) -> None:
    second_feed(ready)
    failing(ready, "1", "CTLG-006-001", "CTLG-006-002", "PRICE-001")
    failing(ready, "2", "CTLG-006-001")
    failing(ready, "3", "MELI-4031")
    failing(ready, "1", "CTLG-007", feed=NETSHOES)
    assert error_counts(ready, channels=FEED) == {
        "CTLG-006": 3,
        "PRICE-001": 1,
        "NTMAP-001": 1,
    }
    assert error_counts(ready, channels=NETSHOES) == {"CTLG-007": 1}
    assert error_counts(ready, channels=f"{FEED},{NETSHOES}") == {
        "CTLG-006": 3,
        "CTLG-007": 1,
        "PRICE-001": 1,
        "NTMAP-001": 1,
    }
    assert error_counts(ready, channels="vtex.nowhere") == {}


def test_search_errors_narrowed_counts_the_errors_of_each_feed(ready: Api) -> None:
    second_feed(ready)
    failing(ready, "1", "CTLG-001")
    failing(ready, "1", "CTLG-001", feed=NETSHOES)
    assert error_counts(ready, channels=f"{FEED},{NETSHOES}") == {"CTLG-001": 2}


def test_search_errors_narrowed_is_sorted_by_open_errors_most_first(ready: Api) -> None:
    failing(ready, "1", "CTLG-007", "PRICE-001")
    failing(ready, "2", "PRICE-001")
    failing(ready, "3", "PRICE-001", "CTLG-001")
    failing(ready, "4", "CTLG-007")
    assert codes(ready, channels=FEED) == ["PRICE-001", "CTLG-007", "CTLG-001"]
    assert codes(ready, channels=FEED, sort="id:asc") == ["CTLG-001", "CTLG-007", "PRICE-001"]
    assert codes(ready, channels=FEED, sort="openErrors:asc") == [
        "CTLG-001",
        "CTLG-007",
        "PRICE-001",
    ]
    page = search(ready, ERRORS, channels=FEED, **{"from": 1, "to": 1})
    assert [item["id"] for item in page["items"]] == ["CTLG-007"]
    assert page["paging"] == {"total": 3, "totalIsExact": True, "from": 1, "to": 1}


def test_search_errors_narrowed_does_not_count_closed_errors(ready: Api) -> None:
    failing(ready, "1", "CTLG-001")
    failing(ready, "2", "CTLG-001")
    failing(ready, "3", "PRICE-001", origin="price")
    report(ready, "1")  # a catalog success closes SKU 1's catalog error
    report(ready, "3", origin="price")
    assert error_counts(ready, channels=FEED) == {"CTLG-001": 1}


def test_search_errors_by_brand_and_category_count_only_matching_offers(ready: Api) -> None:
    failing(ready, "1", "CTLG-001", brand="Acme", category="Shirts")
    failing(ready, "2", "CTLG-001", "PRICE-001", brand="Acme", category="Shoes")
    failing(ready, "3", "CTLG-007", brand="Globex", category="Shirts")
    assert error_counts(ready, brand="Acme") == {"CTLG-001": 2, "PRICE-001": 1}
    assert error_counts(ready, category="Shirts") == {"CTLG-001": 1, "CTLG-007": 1}
    assert error_counts(ready, brand="Acme", category="Shoes") == {
        "CTLG-001": 1,
        "PRICE-001": 1,
    }
    assert error_counts(ready, brand="Initech") == {}


def test_search_errors_narrowed_combines_with_q_and_error_category(ready: Api) -> None:
    failing(ready, "1", "CTLG-001", "CTLG-007", "PRICE-001")
    assert codes(ready, channels=FEED, q="ctlg", sort="id:asc") == ["CTLG-001", "CTLG-007"]
    assert codes(ready, channels=FEED, errorCategory="images") == ["CTLG-007"]


def test_search_errors_empty_brand_and_category_with_channels_only_narrow_by_channel(
    ready: Api,
) -> None:
    failing(ready, "1", "CTLG-001", brand="Acme")
    failing(ready, "2", "PRICE-001")
    expected = {"CTLG-001": 1, "PRICE-001": 1}
    assert error_counts(ready, channels=FEED, brand="", category="", errorCategory="") == expected
    assert error_counts(ready, channels=FEED, brand="", category="", q="") == expected


def test_search_errors_hides_the_errors_of_a_deactivated_feed(ready: Api) -> None:
    second_feed(ready)
    failing(ready, "1", "CTLG-001")
    failing(ready, "2", "CTLG-007", feed=NETSHOES)
    deactivate(ready, NETSHOES)
    assert error_counts(ready, channels=f"{FEED},{NETSHOES}") == {"CTLG-001": 1}
    assert error_counts(ready, channels=NETSHOES) == {}


def test_search_errors_narrowed_counts_only_the_keys_account(ready: Api, make_api: Any) -> None:
    failing(ready, "1", "CTLG-001")
    other = make_api(account="globex")
    assert other.channel(name="Globex Store").status_code == 201
    assert other.activate("vtex.globex-store").status_code == 201
    assert error_counts(other, channels=FEED) == {}
    assert error_counts(other, channels="vtex.globex-store") == {}


# --- Search Errors: the sorts of Search Interactions -----------------------------------------
# The official collection sends one ``{{sort}}`` to both searches.


def seen_at_different_dates(api: Api) -> None:
    """Open errors whose newest dates order the codes CTLG-001, PRICE-001, CTLG-007, while
    their counts order them CTLG-007 (2), PRICE-001, CTLG-001 (1 each)."""
    failing(api, "1", "CTLG-007", date="2024-03-01T10:00:00Z")
    failing(api, "2", "CTLG-007", date="2024-03-02T10:00:00Z")
    failing(api, "3", "PRICE-001", date="2024-03-03T10:00:00Z")
    failing(api, "4", "CTLG-001", date="2024-03-04T10:00:00Z")


def test_search_errors_sorted_by_start_date_lists_the_codes_seen_last_first(
    ready: Api,
) -> None:
    seen_at_different_dates(ready)
    page = search(ready, ERRORS, channels=FEED, sort="startDate:desc")
    assert [(item["id"], item["lastSeen"]) for item in page["items"]] == [
        ("CTLG-001", "2024-03-04T10:00:00.000Z"),
        ("PRICE-001", "2024-03-03T10:00:00.000Z"),
        ("CTLG-007", "2024-03-02T10:00:00.000Z"),
    ]
    assert "warnings" not in page
    assert codes(ready, channels=FEED, sort="startDate:asc") == [
        "CTLG-007",
        "PRICE-001",
        "CTLG-001",
    ]
    assert codes(ready, channels=FEED, sort="lastSeen:desc") == [
        "CTLG-001",
        "PRICE-001",
        "CTLG-007",
    ]


def test_search_errors_last_seen_is_the_newest_report_of_an_open_error(ready: Api) -> None:
    seen_at_different_dates(ready)
    failing(ready, "1", "CTLG-007", date="2024-03-05T10:00:00Z")  # reported again: refreshed
    report(ready, "4", date="2024-03-06T10:00:00Z")  # a catalog success closes CTLG-001
    page = search(ready, ERRORS, channels=FEED, sort="startDate:desc")
    assert [(item["id"], item["lastSeen"]) for item in page["items"]] == [
        ("CTLG-007", "2024-03-05T10:00:00.000Z"),
        ("PRICE-001", "2024-03-03T10:00:00.000Z"),
    ]


def test_search_errors_gives_last_seen_only_when_sorted_by_it(ready: Api) -> None:
    seen_at_different_dates(ready)
    for sort in ("", "openErrors:desc", "id:asc"):
        items = search(ready, ERRORS, channels=FEED, sort=sort)["items"]
        assert all("lastSeen" not in item for item in items)


def test_search_errors_sorted_by_an_interaction_only_field_keeps_its_order_with_a_warning(
    ready: Api,
) -> None:
    seen_at_different_dates(ready)
    by_open_errors = ["CTLG-007", "PRICE-001", "CTLG-001"]
    assert codes(ready, channels=FEED) == by_open_errors
    for sort in ("skuId:asc", "result:desc", "origin:asc", "closedAt:desc", "skuId"):
        page = search(ready, ERRORS, channels=FEED, sort=sort)
        assert [item["id"] for item in page["items"]] == by_open_errors, sort
        [warning] = page["warnings"]
        assert (warning["code"], warning["field"]) == ("sort_ignored", "sort")
        name = sort.partition(":")[0]
        assert f"'{name}'" in warning["message"]
        assert "openErrors:desc" in warning["message"]


def test_search_errors_not_narrowed_keeps_the_id_order_for_a_date_sort_with_a_warning(
    ready: Api,
) -> None:
    seen_at_different_dates(ready)
    for sort in ("startDate:desc", "lastSeen:desc", "openErrors:desc", "skuId:asc"):
        page = search(ready, ERRORS, sort=sort, to=99)
        assert [item["id"] for item in page["items"]] == SEEDED_IDS, sort
        [warning] = page["warnings"]
        assert (warning["code"], warning["field"]) == ("sort_ignored", "sort")
        assert "id:asc" in warning["message"]


def test_search_errors_rejects_a_sort_neither_search_knows(ready: Api) -> None:
    for sort in ("startDate:sideways", "skuId:up", "nonsense", ":desc", "startDate:desc:x"):
        for params in ({"sort": sort}, {"sort": sort, "channels": FEED}):
            response = ready.get(ERRORS, params=params)
            assert response.status_code == 400, (sort, response.text)
            [error] = problems(response)
            assert (error["code"], error["field"]) == ("invalid_sort", "sort")
            assert "startDate" in error["message"]


def test_the_other_lists_still_reject_a_sort_they_do_not_know(ready: Api) -> None:
    for path, sort in (
        ("/offers", "openErrors:desc"),
        ("/offers", "startDate:sideways"),
        (INTERACTIONS, "openErrors:desc"),
        (INTERACTIONS, "lastSeen:desc"),
    ):
        response = ready.get(path, params={"sort": sort})
        assert response.status_code == 400, (path, sort)
        assert {(e["code"], e["field"]) for e in problems(response)} == {("invalid_sort", "sort")}


def test_the_openapi_documents_warnings_and_last_seen_as_optional(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    page = schemas["ErrorSearchPage"]
    assert "warnings" in page["properties"]
    assert "warnings" not in page.get("required", [])
    assert page["properties"]["warnings"]["anyOf"][0]["items"] == {
        "$ref": "#/components/schemas/Notice"
    }
    count = schemas["ErrorCodeCount"]
    assert "lastSeen" in count["properties"]
    assert "lastSeen" not in count.get("required", [])
