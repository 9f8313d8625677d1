"""The wire models shared by the service and the SDK, free of any web framework.

Request models accept what real connectors send.
The .NET SDK serializes PascalCase keys (``StartDate``, ``Data.Price``), numbers where the
contract says strings, and several spellings of some fields. ``CompatModel`` matches keys
without regard to case, maps the extra spellings a model declares in ``key_aliases``, and
turns numbers into strings. Enumerated words go through the domain's vocabulary parsers.

Every string a request model reads is checked for control characters, by the rule its type
names: ``Line`` (ids, names, codes: printable, one line), ``FreeText`` (descriptions: tabs and
line breaks too) or ``RawText`` (evidence: kept as sent, NUL escaped). A string field that
names none is read as ``FreeText``, so no NUL ever reaches the store.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from sentoffers.domain.errors import Problem
from sentoffers.domain.ids import normalize_feed_id, normalize_sku_id
from sentoffers.domain.model import Context, DataStatus, LogType, Origin, Source
from sentoffers.domain.vocabulary import (
    escape_nul,
    parse_context,
    parse_data_status,
    parse_date,
    parse_free_text,
    parse_line,
    parse_log_type,
    parse_origin,
    parse_source,
)

_LINE = AfterValidator(parse_line)
_FREE_TEXT = AfterValidator(parse_free_text)
_RAW_TEXT = AfterValidator(escape_nul)
_TEXT_RULES = (_LINE, _FREE_TEXT, _RAW_TEXT)

Line = Annotated[str, _LINE]
"""Ids, names, codes, prices: printable characters on one line."""
FreeText = Annotated[str, _FREE_TEXT]
"""Text for people (descriptions, titles): may also hold tabs and line breaks."""
RawText = Annotated[str, _RAW_TEXT]
"""Text kept as sent (evidence), each NUL written ``\\u0000``."""


def _trimmed(value: str) -> str:
    return value.strip()


FeedIdIn = Annotated[str, _LINE, AfterValidator(_trimmed), AfterValidator(normalize_feed_id)]
"""A feed's id in a body: a ``Line`` without the blanks around it, in the form feed ids are
matched in (``sentoffers.domain.ids.normalize_feed_id``). Length limits given with the
field apply to the id as sent."""

SkuIdIn = Annotated[str, _LINE, AfterValidator(normalize_sku_id)]
"""An SKU id in a body: a ``Line`` without the blanks around it, 1 to 128 characters
(``sentoffers.domain.ids.normalize_sku_id``)."""


class CompatModel(BaseModel):
    """Base of request models: case-insensitive keys, aliases, numbers as strings."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        coerce_numbers_to_str=True,
        extra="ignore",
    )

    key_aliases: ClassVar[dict[str, str]] = {}
    """Extra spellings (any case) mapped to a field's camelCase name."""

    @classmethod
    def _key_lookup(cls) -> dict[str, str]:
        return _lookup_for(cls)

    @model_validator(mode="before")
    @classmethod
    def _canonical_keys(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        lookup = cls._key_lookup()
        out: dict[str, Any] = {}
        for key, item in value.items():
            # .NET serializers write null for unset properties: null means absent.
            if item is None:
                continue
            target = lookup.get(key.lower(), key) if isinstance(key, str) else key
            out.setdefault(target, item)
        return out

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        # Fields typed Line, FreeText or RawText are checked by their type; any other string
        # (or list of strings) is read as free text.
        if info.field_name is None or info.field_name in _typed_text_fields(cls):
            return value
        if isinstance(value, str) and not isinstance(value, enum.Enum):
            return parse_free_text(value)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, str) and not isinstance(item, enum.Enum):
                    parse_free_text(item)
        return value


@cache
def _lookup_for(model: type[CompatModel]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for name, info in model.model_fields.items():
        alias = info.alias or name
        lookup[alias.lower()] = alias
        lookup[name.lower()] = alias
    for spelling, alias in model.key_aliases.items():
        lookup[spelling.lower()] = alias
    return lookup


@cache
def _typed_text_fields(model: type[CompatModel]) -> frozenset[str]:
    """The fields of ``model`` whose type names a text rule (``Line``, ``FreeText``...)."""
    return frozenset(
        name
        for name, info in model.model_fields.items()
        if any(_names_text_rule(m) for m in info.metadata) or _names_text_rule(info.annotation)
    )


def _names_text_rule(annotation: Any) -> bool:
    if any(annotation is rule for rule in _TEXT_RULES):
        return True
    if typing.get_origin(annotation) is Annotated:
        return any(_names_text_rule(part) for part in typing.get_args(annotation))
    return any(_names_text_rule(arg) for arg in typing.get_args(annotation))


def _text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


LogTypeIn = Annotated[LogType, BeforeValidator(parse_log_type)]
DataStatusIn = Annotated[DataStatus, BeforeValidator(parse_data_status)]
ContextIn = Annotated[Context, BeforeValidator(parse_context)]
SourceIn = Annotated[Source, BeforeValidator(parse_source)]
OriginIn = Annotated[Origin, BeforeValidator(parse_origin)]
DateIn = Annotated[datetime, BeforeValidator(parse_date)]


def as_list(value: Any) -> Any:
    """One object where a list is expected is a list of one; null is an empty list."""
    if value is None:
        return []
    if isinstance(value, dict | str):
        return [value]
    return value


def origins_list(value: Any) -> Any:
    """``closableOrigins`` as a list, a single word or a comma-separated string."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.split(",")) if part]
    return value


class ReadModel(BaseModel):
    """Base of response models: camelCase JSON.

    Routes leave unset values out of their answers (``ContractRoute``): the contract types
    optional fields as strings, so an absent value is omitted rather than sent as null.
    """

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    def to_json(self) -> bytes:
        """The JSON a route answers for this model."""
        return self.model_dump_json(by_alias=True, exclude_none=True).encode()


class Paging(ReadModel):
    """The range of a page: ``from`` and ``to`` are inclusive positions in the whole list."""

    total: int
    total_is_exact: bool = True
    from_: int = Field(alias="from")
    to: int


def validation_problems(errors: Sequence[Any]) -> list[Problem]:
    """Pydantic's errors as problems: one per error, with a dotted field path."""
    problems = []
    for error in errors:
        loc = [part for part in error.get("loc", ()) if part not in ("body", "query", "path")]
        field = ""
        for part in loc:
            if isinstance(part, int):
                field += f"[{part}]"
            else:
                field += f".{part}" if field else str(part)
        kind = error.get("type", "invalid")
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        code = {"missing": "required", "json_invalid": "invalid_json"}.get(kind, "invalid")
        if kind == "json_invalid":
            # Its location is a character position in the body, not a field.
            message = f"the body is not valid JSON: {error.get('ctx', {}).get('error', message)}"
            field = "body"
        problems.append(Problem(code, message, field or None))
    return problems
