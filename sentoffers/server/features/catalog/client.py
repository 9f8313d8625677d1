"""A small client of the VTEX Catalog API: the SKU by id, mapped to an offer's metadata.

``GET {base}/api/catalog_system/pvt/sku/stockkeepingunitbyid/{skuId}`` answers the SKU and
its context (``GetSKUandContext``): product and SKU names, image, product id, brand and
categories. The base URL is a template in which ``{account}`` is replaced by the seller's
account, e.g. ``https://{account}.vtexcommercestable.com.br``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from sentoffers import __version__
from sentoffers.server.settings import Settings

SKU_PATH = "/api/catalog_system/pvt/sku/stockkeepingunitbyid/{sku_id}"

# VTEX account names are letters and digits (and, in the wild, hyphens); anything else is
# refused before it reaches a URL, so an account name can never change the host or path.
_ACCOUNT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")

# The longest values the offers table (and the connector's own fields) keep.
MAX_NAME = 1000
MAX_IMAGE = 4000
MAX_PRODUCT_ID = 128
MAX_BRAND = 200
MAX_CATEGORY = 200


class CatalogError(Exception):
    """The catalog could not answer now; the lookup is worth trying again later."""


class CatalogUnavailable(CatalogError):
    """A transport error, a timeout, a 5xx or 429, or a body that is not the SKU's JSON."""


class CatalogAuthError(CatalogError):
    """401 or 403: the catalog credentials are wrong or lack access to the account."""


@dataclass(frozen=True, slots=True)
class SkuMetadata:
    """What an offer shows of its SKU; ``None`` where the catalog had nothing."""

    name: str | None = None
    image: str | None = None
    product_id: str | None = None
    brand: str | None = None
    category: str | None = None

    def as_columns(self) -> dict[str, str | None]:
        return {
            "name": self.name,
            "image": self.image,
            "product_id": self.product_id,
            "brand": self.brand,
            "category": self.category,
        }


def _text(value: Any, limit: int) -> str | None:
    """A non-blank string (numbers allowed), cut to ``limit`` characters."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:limit] if value else None


def _whole(value: Any, limit: int) -> str | None:
    """Like ``_text``, but a value too long to keep whole (a URL, an id) is dropped, not cut."""
    text = _text(value, limit + 1)
    return text if text is not None and len(text) <= limit else None


def _first(*values: str | None) -> str | None:
    return next((value for value in values if value), None)


def _image(body: Mapping[str, Any]) -> str | None:
    images = body.get("Images")
    first_image = None
    if isinstance(images, list) and images and isinstance(images[0], Mapping):
        first_image = _whole(images[0].get("ImageUrl"), MAX_IMAGE)
    return _first(_whole(body.get("ImageUrl"), MAX_IMAGE), first_image)


def _category(body: Mapping[str, Any]) -> str | None:
    """The product's own (deepest) category name.

    ``ProductCategories`` maps every category id of the product's tree to its name and
    ``ProductCategoryIds`` is the tree's path (``/1/10/``), so the path's last id names the
    product's category; without a path, the last name listed.
    """
    names = body.get("ProductCategories")
    if not isinstance(names, Mapping) or not names:
        return None
    path = body.get("ProductCategoryIds")
    if isinstance(path, str):
        ids = [part for part in path.split("/") if part.strip()]
        if ids and (name := _text(names.get(ids[-1].strip()), MAX_CATEGORY)):
            return name
    return _first(*(_text(name, MAX_CATEGORY) for name in reversed(list(names.values()))))


def sku_metadata_from_json(body: Mapping[str, Any]) -> SkuMetadata:
    """Map a ``GetSKUandContext`` body to an offer's name, image, productId, brand, category.

    The name is ``NameComplete`` (product and SKU names together), else ``SkuName``, else
    ``ProductName``; the image is ``ImageUrl``, else the first of ``Images``.
    """
    return SkuMetadata(
        name=_first(
            _text(body.get("NameComplete"), MAX_NAME),
            _text(body.get("SkuName"), MAX_NAME),
            _text(body.get("ProductName"), MAX_NAME),
        ),
        image=_image(body),
        product_id=_whole(body.get("ProductId"), MAX_PRODUCT_ID),
        brand=_text(body.get("BrandName"), MAX_BRAND),
        category=_category(body),
    )


def valid_account(account: str) -> bool:
    return _ACCOUNT.fullmatch(account) is not None


class CatalogClient:
    """Synchronous (it runs in worker threads) and thread-safe: one connection pool."""

    def __init__(
        self,
        base_url: str,
        *,
        app_key: str | None = None,
        app_token: str | None = None,
        timeout: float = 5.0,
        max_connections: int = 10,
        transport: httpx.BaseTransport | None = None,
    ):
        self.base_url = base_url.strip().rstrip("/")
        headers = {"Accept": "application/json", "User-Agent": f"sentoffers/{__version__}"}
        if app_key:
            headers["X-VTEX-API-AppKey"] = app_key
        if app_token:
            headers["X-VTEX-API-AppToken"] = app_token
        self._http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            transport=transport,
            follow_redirects=False,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> CatalogClient:
        if not settings.catalog_base_url:
            raise ValueError("SENTOFFERS_CATALOG_BASE_URL is not set")
        return cls(
            settings.catalog_base_url,
            app_key=settings.catalog_app_key,
            app_token=settings.catalog_app_token,
            timeout=settings.catalog_timeout_seconds,
            max_connections=settings.catalog_concurrency,
        )

    def sku_url(self, account: str, sku_id: str) -> str:
        if not valid_account(account):
            raise ValueError(f"not a VTEX account name: {account!r}")
        base = self.base_url.replace("{account}", account)
        return base + SKU_PATH.format(sku_id=quote(sku_id.strip(), safe=""))

    def fetch_sku(self, account: str, sku_id: str) -> SkuMetadata | None:
        """The SKU's metadata; ``None`` if the catalog does not know the SKU (404).

        Raises ``CatalogAuthError`` on 401/403 and ``CatalogUnavailable`` on anything else
        that is worth trying again later (transport errors, timeouts, 429, 5xx, bad bodies).
        """
        url = self.sku_url(account, sku_id)
        try:
            response = self._http.get(url)
        except httpx.HTTPError as error:
            raise CatalogUnavailable(f"{type(error).__name__} asking {url}: {error}") from error
        status = response.status_code
        if status == httpx.codes.NOT_FOUND:
            return None
        if status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
            raise CatalogAuthError(f"{status} from {url}: check the catalog app key and token")
        if status != httpx.codes.OK:
            raise CatalogUnavailable(f"{status} from {url}")
        try:
            body = response.json()
        except ValueError as error:
            raise CatalogUnavailable(f"{url} answered a body that is not JSON") from error
        if body is None:  # some catalog routes answer 200 null for an unknown id
            return None
        if not isinstance(body, Mapping):
            raise CatalogUnavailable(f"{url} answered JSON that is not an object")
        return sku_metadata_from_json(body)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
