"""The sample marketplace's registration rules, as pure functions over JSON-like values.

The generated catalog tags its flaws against these same limits, so a SKU tagged
``long_description`` is exactly one the marketplace refuses for its description length.
Every check runs and every problem found is returned, never only the first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

_TAG = re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9]*(\s[^<>]*)?/?\s*>")
_URL = re.compile(r"https?://[^\s/]+\S*")
DIMENSIONS = ("height", "width", "length", "weight")


@dataclass(frozen=True, slots=True)
class MarketplaceRules:
    """Limits of the sample marketplace's product registration."""

    max_title: int = 150
    max_description: int = 4000
    max_images: int = 10


@dataclass(frozen=True, slots=True)
class RuleError:
    """One problem with a request: a stable ``code``, the ``field`` it is about, and words."""

    code: str
    field: str
    message: str

    def as_json(self) -> dict[str, str]:
        """``{"code", "field", "message"}``."""
        return {"code": self.code, "field": self.field, "message": self.message}


def gtin_check_digit(body: str) -> int:
    """The GS1 check digit of a GTIN's digits without their last one."""
    total = sum(int(digit) * (3 if i % 2 == 0 else 1) for i, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def valid_gtin(code: str) -> bool:
    """True for a GTIN-8, -12, -13 or -14 (EAN/UPC) whose check digit is right."""
    if not code.isascii() or not code.isdigit() or len(code) not in (8, 12, 13, 14):
        return False
    return gtin_check_digit(code[:-1]) == int(code[-1])


def has_html(text: str) -> bool:
    """True when the text holds an HTML tag (``<p>``, ``</li>``, ``<br/>``)."""
    return _TAG.search(text) is not None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _text_errors(
    body: Mapping[str, Any], field: str, limit: int, errors: list[RuleError]
) -> str | None:
    value = body.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append(RuleError(f"{field}.required", field, f"{field} is required"))
        return None
    if not isinstance(value, str):
        errors.append(RuleError(f"{field}.invalid", field, f"{field} must be a string"))
        return None
    if len(value) > limit:
        errors.append(
            RuleError(
                f"{field}.too_long",
                field,
                f"{field} has {len(value)} characters; at most {limit} are allowed",
            )
        )
    return value


def _image_errors(value: Any, rules: MarketplaceRules, errors: list[RuleError]) -> None:
    if value is None or value == []:
        errors.append(RuleError("images.required", "images", "at least one image is required"))
        return
    if not isinstance(value, list):
        errors.append(RuleError("images.invalid", "images", "images must be a list of URLs"))
        return
    if len(value) > rules.max_images:
        errors.append(RuleError("images.too_many", "images", f"at most {rules.max_images} images"))
    for index, url in enumerate(value):
        if not isinstance(url, str) or _URL.fullmatch(url) is None:
            errors.append(RuleError("images.invalid_url", f"images[{index}]", "not an http(s) URL"))


def _dimension_errors(value: Any, errors: list[RuleError]) -> None:
    if not isinstance(value, Mapping):
        errors.append(
            RuleError(
                "dimensions.required",
                "dimensions",
                "dimensions (height, width, length, weight) are required",
            )
        )
        return
    for name in DIMENSIONS:
        number = _number(value.get(name))
        if number is None or number <= 0:
            errors.append(
                RuleError(
                    f"dimensions.{name}.required",
                    f"dimensions.{name}",
                    f"{name} must be a number greater than 0",
                )
            )


def listing_errors(
    body: Mapping[str, Any], rules: MarketplaceRules, categories: Collection[str]
) -> list[RuleError]:
    """Every registration rule a product body breaks (create and full update)."""
    errors: list[RuleError] = []
    sku = body.get("sku")
    if not isinstance(sku, str | int) or isinstance(sku, bool) or not str(sku).strip():
        errors.append(RuleError("sku.required", "sku", "sku (the seller's SKU id) is required"))
    _text_errors(body, "title", rules.max_title, errors)
    description = _text_errors(body, "description", rules.max_description, errors)
    if description is not None and has_html(description):
        errors.append(
            RuleError("description.html", "description", "HTML is not allowed in descriptions")
        )
    _text_errors(body, "brand", 200, errors)
    category = body.get("category")
    if not isinstance(category, str) or not category.strip():
        errors.append(RuleError("category.required", "category", "category is required"))
    elif category not in categories:
        errors.append(RuleError("category.unknown", "category", f"unknown category {category!r}"))
    ean = body.get("ean")
    if not isinstance(ean, str) or not ean.strip():
        errors.append(RuleError("ean.required", "ean", "ean is required"))
    elif not valid_gtin(ean.strip()):
        errors.append(RuleError("ean.invalid", "ean", f"{ean!r} is not a valid EAN/GTIN"))
    _image_errors(body.get("images"), rules, errors)
    _dimension_errors(body.get("dimensions"), errors)
    if "price" in body or "listPrice" in body:
        errors.extend(price_errors(body, required=False))
    if "stock" in body:
        errors.extend(inventory_errors(body, field="stock"))
    return errors


def price_errors(body: Mapping[str, Any], *, required: bool = True) -> list[RuleError]:
    """Problems with ``price`` (more than 0, two decimals at most) and ``listPrice`` (>= price)."""
    errors: list[RuleError] = []
    price = _number(body.get("price"))
    if body.get("price") is None and not required:
        price = None
    elif price is None or price <= 0:
        errors.append(RuleError("price.invalid", "price", "price must be a number above 0"))
        price = None
    elif round(price, 2) != price:
        errors.append(RuleError("price.precision", "price", "price has more than 2 decimals"))
    if body.get("listPrice") is not None:
        list_price = _number(body.get("listPrice"))
        if list_price is None or list_price <= 0:
            errors.append(
                RuleError("listPrice.invalid", "listPrice", "listPrice must be a number above 0")
            )
        elif price is not None and list_price < price:
            errors.append(
                RuleError("listPrice.below_price", "listPrice", "listPrice is below price")
            )
    return errors


def inventory_errors(body: Mapping[str, Any], *, field: str = "quantity") -> list[RuleError]:
    """Problems with a stock quantity: a whole number, 0 or more."""
    value = body.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return [RuleError(f"{field}.invalid", field, f"{field} must be a whole number >= 0")]
    return []
