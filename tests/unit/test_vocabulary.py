"""The words and dates real connectors send, read into the domain's vocabulary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sentoffers.domain.model import Context, DataStatus, LogType, Origin, Source
from sentoffers.domain.vocabulary import (
    end_of_day,
    escape_nul,
    format_date,
    parse_context,
    parse_data_status,
    parse_date,
    parse_free_text,
    parse_line,
    parse_log_type,
    parse_origin,
    parse_source,
)

# -- words ------------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["Info", "info", "INFO", "information", "Information", " Info "])
def test_info_reads_as_information(word: str) -> None:
    assert parse_log_type(word) == LogType.INFORMATION


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("Success", LogType.SUCCESS),
        ("Warning", LogType.WARNING),
        ("Failure", LogType.FAILURE),
        ("failure", LogType.FAILURE),
    ],
)
def test_log_types_read_as_the_sdk_writes_them(word: str, expected: LogType) -> None:
    assert parse_log_type(word) == expected


@pytest.mark.parametrize("word", ["Synchronized", "synchronized", "Synced", "SYNCED", "Synched"])
def test_synchronized_reads_as_synced(word: str) -> None:
    assert parse_data_status(word) == DataStatus.SYNCED


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("Sending", DataStatus.SENDING),
        ("Unavailable", DataStatus.UNAVAILABLE),
        ("DISABLED", DataStatus.DISABLED),
        ("Error", DataStatus.ERROR),
    ],
)
def test_data_statuses_are_read_without_regard_to_case(word: str, expected: DataStatus) -> None:
    assert parse_data_status(word) == expected


def test_words_are_read_without_regard_to_case() -> None:
    assert parse_context("SETUP") == Context.SETUP
    assert parse_context("Ongoing") == Context.ONGOING
    assert parse_source("Seller") == Source.SELLER
    assert parse_source("CHANNEL") == Source.CHANNEL
    assert parse_origin("Catalog") == Origin.CATALOG
    assert parse_origin("PRICE") == Origin.PRICE
    assert parse_origin("inventory") == Origin.INVENTORY


@pytest.mark.parametrize("word", ["sync", "Sync", "SYNC"])
def test_sync_context_reads_as_ongoing(word: str) -> None:
    assert parse_context(word) == Context.ONGOING


def test_unknown_word_raises_value_error_listing_the_choices() -> None:
    with pytest.raises(ValueError, match=r"^unknown log type 'Debug'; expected one of: ") as raised:
        parse_log_type("Debug")

    assert str(raised.value).endswith("failure, information, success, warning")


def test_unknown_origin_raises_value_error_naming_the_origins() -> None:
    with pytest.raises(
        ValueError, match=r"^unknown origin 'stock'; expected one of: catalog, inventory, price$"
    ):
        parse_origin("stock")


@pytest.mark.parametrize("value", [None, "", 3])
def test_missing_or_non_text_word_raises_value_error(value: object) -> None:
    with pytest.raises(ValueError, match="unknown context"):
        parse_context(value)


# -- dates ------------------------------------------------------------------------------------


def test_date_only_reads_as_midnight_utc() -> None:
    assert parse_date("2020-10-29") == datetime(2020, 10, 29, tzinfo=UTC)


def test_iso_date_with_zulu_reads_as_utc() -> None:
    assert parse_date("2021-10-15T16:20:19.561754Z") == datetime(
        2021, 10, 15, 16, 20, 19, 561754, tzinfo=UTC
    )


def test_iso_date_with_an_offset_is_converted_to_utc() -> None:
    parsed = parse_date("2020-10-29T16:20:19-03:00")

    assert parsed == datetime(2020, 10, 29, 19, 20, 19, tzinfo=UTC)
    assert parsed.utcoffset() == timedelta(0)


def test_iso_date_without_zone_is_taken_as_utc() -> None:
    parsed = parse_date("2020-10-29T16:20:19")

    assert parsed == datetime(2020, 10, 29, 16, 20, 19, tzinfo=UTC)
    assert parsed.tzinfo is not None


def test_iso_date_with_seven_fractional_digits_reads_to_the_microsecond() -> None:
    assert parse_date("2021-10-15T16:20:19.5617540Z") == datetime(
        2021, 10, 15, 16, 20, 19, 561754, tzinfo=UTC
    )


def test_iso_date_with_seven_fractional_digits_and_an_offset() -> None:
    assert parse_date("2021-10-15T16:20:19.5617549+02:00") == datetime(
        2021, 10, 15, 14, 20, 19, 561754, tzinfo=UTC
    )


def test_iso_date_with_a_space_and_no_seconds() -> None:
    assert parse_date("2020-10-29 16:20") == datetime(2020, 10, 29, 16, 20, tzinfo=UTC)


def test_dotnet_default_date_reads_month_first() -> None:
    assert parse_date("10/29/2020 4:20:19 PM") == datetime(2020, 10, 29, 16, 20, 19, tzinfo=UTC)


def test_day_first_date_reads_when_the_first_number_cannot_be_a_month() -> None:
    assert parse_date("29/10/2020 16:20:19") == datetime(2020, 10, 29, 16, 20, 19, tzinfo=UTC)


def test_ambiguous_slash_date_reads_month_first_as_dotnet_writes_it() -> None:
    assert parse_date("05/06/2020 10:00:00") == datetime(2020, 5, 6, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "hour"),
    [
        ("10/29/2020 12:05:00 AM", 0),
        ("10/29/2020 12:05:00 PM", 12),
        ("10/29/2020 1:05:00 am", 1),
        ("10/29/2020 11:05:00 pm", 23),
    ],
)
def test_dotnet_twelve_hour_clock_reads_midnight_and_noon(text: str, hour: int) -> None:
    assert parse_date(text) == datetime(2020, 10, 29, hour, 5, tzinfo=UTC)


def test_dotnet_date_with_a_narrow_no_break_space_before_pm() -> None:
    # .NET on ICU 72+ writes U+202F between the time and AM/PM.
    assert parse_date("10/29/2020 4:20:19\u202fPM") == datetime(
        2020, 10, 29, 16, 20, 19, tzinfo=UTC
    )


def test_dotnet_date_without_time_reads_as_midnight_utc() -> None:
    assert parse_date("10/29/2020") == datetime(2020, 10, 29, tzinfo=UTC)


def test_aware_datetime_is_converted_to_utc() -> None:
    brasilia = timezone(timedelta(hours=-3))

    assert parse_date(datetime(2020, 10, 29, 13, 0, tzinfo=brasilia)) == datetime(
        2020, 10, 29, 16, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "",
        "   ",
        "2020-13-45",
        "2020-10-29T25:00:00Z",
        "32/13/2020 10:00:00",
        "10/29/20 4:20:19 PM",
        None,
        20201029,
    ],
)
def test_garbage_date_raises_value_error_with_a_readable_message(value: object) -> None:
    with pytest.raises(ValueError, match=r"^invalid date ") as raised:
        parse_date(value)

    assert repr(value) in str(raised.value)


def test_unreadable_date_message_says_what_is_expected() -> None:
    with pytest.raises(ValueError, match=r"^invalid date 'soon'; expected ISO 8601 or yyyy-MM-dd$"):
        parse_date("soon")


def test_format_date_writes_utc_with_z_and_milliseconds() -> None:
    assert format_date(datetime(2020, 10, 29, 16, 20, 19, 561754, tzinfo=UTC)) == (
        "2020-10-29T16:20:19.561Z"
    )


def test_format_date_converts_other_zones_to_utc() -> None:
    brasilia = timezone(timedelta(hours=-3))

    assert format_date(datetime(2020, 10, 29, 13, 0, tzinfo=brasilia)) == (
        "2020-10-29T16:00:00.000Z"
    )


def test_formatted_date_reads_back_as_the_same_instant() -> None:
    moment = datetime(2021, 10, 15, 16, 20, 19, 561000, tzinfo=UTC)

    assert parse_date(format_date(moment)) == moment


# -- the ends of the calendar ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9999-12-31", datetime(9999, 12, 31, tzinfo=UTC)),
        ("0001-01-01", datetime(1, 1, 1, tzinfo=UTC)),
        ("9999-12-31T23:59:59.9999999Z", datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("0001-01-01T05:00:00+05:00", datetime(1, 1, 1, tzinfo=UTC)),
        ("12/31/9999 11:59:59 PM", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_read(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+01:00", "0001-01-01T04:59:59+05:00"]
)
def test_a_date_whose_utc_time_falls_outside_the_calendar_raises_value_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"outside the years 1 to 9999"):
        parse_date(text)


@pytest.mark.parametrize("text", ["10000-01-01", "0000-01-01", "9999-12-31T24:00:00", "9999-13-01"])
def test_a_date_off_the_calendar_raises_value_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"^invalid date "):
        parse_date(text)


def test_an_aware_datetime_past_the_calendar_in_utc_raises_value_error() -> None:
    with pytest.raises(ValueError, match=r"outside the years 1 to 9999"):
        parse_date(datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))))


def test_the_end_of_the_last_day_of_the_calendar_needs_no_arithmetic() -> None:
    assert end_of_day(parse_date("9999-12-31")) == datetime(
        9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC
    )


# -- text ------------------------------------------------------------------------------------


CONTROLS = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x80", "\x85", "\x9f"]
LAYOUT = ["\t", "\n", "\r"]


@pytest.mark.parametrize("char", CONTROLS + LAYOUT)
def test_a_line_refuses_every_control_character_saying_which_and_where(char: str) -> None:
    with pytest.raises(ValueError, match=rf"U\+{ord(char):04X} at character 4;"):
        parse_line(f"SKU{char}1")


@pytest.mark.parametrize("char", CONTROLS)
def test_free_text_refuses_control_characters_but_layout(char: str) -> None:
    with pytest.raises(ValueError, match=rf"U\+{ord(char):04X}"):
        parse_free_text(f"Refused{char}")


@pytest.mark.parametrize(
    "text",
    ["Refused:\n\tno brand\r\n", "Marca não informada", "价格 ≠ 0", "emoji 🚀", "\u00a0nbsp"],
)
def test_free_text_keeps_layout_and_any_printable_character(text: str) -> None:
    assert parse_free_text(text) == text


@pytest.mark.parametrize("text", ["vtex.meli-classic", "SKU 1/2", "Sapato Azul Nº 42", "ñ"])
def test_a_printable_line_is_read_as_is(text: str) -> None:
    assert parse_line(text) == text


def test_escape_nul_writes_each_nul_as_its_visible_escape_and_keeps_the_rest() -> None:
    assert escape_nul('{"a":\t1}\x00\x00\x01') == '{"a":\t1}\\u0000\\u0000\x01'


def test_a_pt_br_date_time_now_reads_day_first_when_only_that_is_now() -> None:
    now = datetime(2026, 12, 3, 14, 6, tzinfo=UTC)
    # DateTime.Now.ToString() in pt-BR on 3 December: "03/12/2026 14:05:09".
    assert parse_date("03/12/2026 14:05:09", now) == datetime(2026, 12, 3, 14, 5, 9, tzinfo=UTC)


def test_an_invariant_date_time_now_still_reads_month_first() -> None:
    now = datetime(2026, 3, 12, 14, 6, tzinfo=UTC)
    # The invariant culture on 12 March writes "03/12/2026 14:05:09" too.
    assert parse_date("03/12/2026 14:05:09", now) == datetime(2026, 3, 12, 14, 5, 9, tzinfo=UTC)


def test_an_am_pm_date_is_en_us_and_month_first_whatever_the_day() -> None:
    now = datetime(2026, 12, 3, 14, 6, tzinfo=UTC)
    assert parse_date("03/12/2026 2:05:09 PM", now) == datetime(2026, 3, 12, 14, 5, 9, tzinfo=UTC)
