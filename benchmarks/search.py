"""Search benchmark: read latency of the service over a large store, and a purge under reads.

One run:

1. builds a store for one account (default ``bench``): 1,000,000 offers over 10 feeds with
   2,500,000 interactions and 5,000,000 logs spread over the last 20 days, realistic and
   consistent with the service's rules (statuses, status counts, status history, open and
   closed error occurrences, unmapped errors), written straight through the store: SQLAlchemy
   Core ``executemany`` in big transactions, or COPY through psycopg on PostgreSQL; the
   secondary indexes are dropped for the load and built again after it (same DDL), then
   ``ANALYZE`` (+ ``PRAGMA optimize`` on SQLite, ``VACUUM ANALYZE`` on PostgreSQL);
2. starts ``python -m sentoffers serve`` on that database (loopback only, background jobs
   off), creates a viewer key and measures, one request at a time, after a warm-up, the
   p50/p95/p99 latency of five reads, every answer checked to be 200:

   a. offer list by status        ``GET /api/sent-offers/offers?status=error&from=0&to=19``
   b. offer list by channel and q ``GET /api/sent-offers/offers?channel=FEED&q=PART-OF-NAME``
   c. one offer's details         ``GET /api/sent-offers/feeds/FEED/skus/SKU``
   d. search interactions         ``GET .../search/interactions?channels=FEED&scope=price``
                                  ``&result=success``
   e. search errors by channel    ``GET .../search/errors?channels=FEED``
   f. stuck offers                ``GET /api/sent-offers/offers?stuck=true&from=0&to=19``
                                  (a third of them on one channel)

   and, for each read over the target (50 ms at p95, or all with ``--explain``), the SQL
   statements the service runs for it, each timed, with EXPLAIN QUERY PLAN (SQLite) or
   EXPLAIN (ANALYZE, BUFFERS) (PostgreSQL);
3. purges the logs and closed interactions older than 10 days
   (``sentoffers.server.features.retention.purge_expired``) in a thread while reads (b)
   and (c) keep going over HTTP, then checks that no log outlived its interaction.

Usage (see benchmarks/README.md)::

    uv run python benchmarks/search.py --offers 20000 --logs 100000        # quick, SQLite
    uv run python benchmarks/search.py                                     # 1M / 5M, SQLite
    uv run python benchmarks/search.py --postgres                          # 1M / 5M, PostgreSQL
    uv run python benchmarks/search.py --keep                              # keep the store
    uv run python benchmarks/search.py --reuse --database-url sqlite:////tmp/.../search.db

This is a script, not a test: it never runs under pytest.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from _service import ROOT, started_service

if str(ROOT) not in sys.path:  # run as a file from anywhere, the package still imports
    sys.path.insert(0, str(ROOT))

TARGET_P95_MS = 50.0
HTTP_TIMEOUT = httpx.Timeout(120.0, connect=10.0)
PG_DATABASE = "sentoffers_search"
DAY = 86_400.0
HISTORY_DAYS = 20
RETENTION_DAYS = 10
# The tables loaded here whose secondary indexes are dropped for the load and rebuilt.
LOADED_TABLES = ("offers", "interactions", "logs", "error_occurrences", "offer_status_history")

# --------------------------------------------------------------------------- the data

# (vendor, channel name, share of the offers): a few big channels, a tail of small ones.
FEEDS = (
    ("Mercado Livre", "Classico", 0.24),
    ("Amazon", "Brasil", 0.18),
    ("Magalu", "Marketplace", 0.13),
    ("Shopee", "Brasil", 0.11),
    ("Americanas", "Marketplace", 0.09),
    ("Casas Bahia", "Marketplace", 0.07),
    ("Carrefour", "Marketplace", 0.06),
    ("Netshoes", "Marketplace", 0.05),
    ("Dafiti", "Marketplace", 0.04),
    ("Kabum", "Marketplace", 0.03),
)

# (category, the noun a product name starts with). No upper-case non-ASCII letters:
# SQLite's lower() folds ASCII only, and the service lower()s the name to match ``q``.
CATEGORIES = (
    ("Calçados > Tênis", "Tênis"),
    ("Calçados > Sandálias", "Sandália"),
    ("Calçados > Botas", "Bota"),
    ("Calçados > Chinelos", "Chinelo"),
    ("Roupas > Camisetas", "Camiseta"),
    ("Roupas > Calças", "Calça"),
    ("Roupas > Jaquetas", "Jaqueta"),
    ("Roupas > Vestidos", "Vestido"),
    ("Roupas > Bermudas", "Bermuda"),
    ("Roupas > Moletons", "Moletom"),
    ("Roupas > Meias", "Meia"),
    ("Acessórios > Bolsas", "Bolsa"),
    ("Acessórios > Mochilas", "Mochila"),
    ("Acessórios > Relógios", "Relógio"),
    ("Acessórios > Bonés", "Boné"),
    ("Acessórios > Carteiras", "Carteira"),
    ("Eletrônicos > Smartphones", "Smartphone"),
    ("Eletrônicos > Tablets", "Tablet"),
    ("Eletrônicos > Notebooks", "Notebook"),
    ("Eletrônicos > Monitores", "Monitor"),
    ("Eletrônicos > Fones de Ouvido", "Fone de Ouvido"),
    ("Eletrônicos > Caixas de Som", "Caixa de Som"),
    ("Eletrônicos > Smart TVs", "Smart TV"),
    ("Eletrônicos > Câmeras", "Câmera"),
    ("Informática > Teclados", "Teclado"),
    ("Informática > Mouses", "Mouse"),
    ("Informática > Impressoras", "Impressora"),
    ("Informática > SSDs", "SSD"),
    ("Casa > Panelas", "Panela"),
    ("Casa > Liquidificadores", "Liquidificador"),
    ("Casa > Cafeteiras", "Cafeteira"),
    ("Casa > Air Fryers", "Fritadeira Air Fryer"),
    ("Casa > Aspiradores", "Aspirador de Pó"),
    ("Casa > Ventiladores", "Ventilador"),
    ("Casa > Jogos de Cama", "Jogo de Cama"),
    ("Casa > Toalhas", "Toalha de Banho"),
    ("Móveis > Cadeiras", "Cadeira"),
    ("Móveis > Mesas", "Mesa"),
    ("Móveis > Estantes", "Estante"),
    ("Esporte > Bicicletas", "Bicicleta"),
    ("Esporte > Bolas", "Bola"),
    ("Esporte > Halteres", "Halter"),
    ("Esporte > Garrafas", "Garrafa Térmica"),
    ("Beleza > Perfumes", "Perfume"),
    ("Beleza > Secadores", "Secador de Cabelo"),
    ("Beleza > Maquiagem", "Base Líquida"),
    ("Brinquedos > Bonecas", "Boneca"),
    ("Brinquedos > Blocos de Montar", "Blocos de Montar"),
    ("Pet > Rações", "Ração"),
    ("Ferramentas > Furadeiras", "Furadeira"),
)
BRAND_HEADS = "Nor Tre Val Kor Lum Zen Ari Bel Cas Dor Eli Fal Gal Hel Ira Jun Kai Lor Mar Nex"
BRAND_TAILS = "vak lo tix ora men dex ano ris via ton ella ux aro ent isa"
MODEL_WORDS = (
    "Velox Aria Nimbus Orion Pulse Terra Vento Solar Astro Prime Nova Zephyr Atlas Luna Vega "
    "Sirius Titan Aurora Delta Omega Sigma Kappa Falcon Eagle Hawk Raven Tiger Puma Lynx "
    "Cobra Viper Storm Breeze Ocean River Canyon Summit Ridge Forest Urban Metro Classic "
    "Retro Vintage Modern Fusion Quantum Vertex Apex Zenith Horizon Infinity Eclipse Comet "
    "Meteor Galaxy Cosmos Stellar Lunar Rocket Jet Turbo Nitro Blaze Flame Frost Glacier "
    "Arctic Polar Tundra Sahara Dune Mirage Oasis Lagoon Coral Reef Marina Harbor Anchor "
    "Compass Voyager Explorer Pioneer Ranger Scout Nomad Trek Trail Path Route Journey "
    "Quest Legend Myth Saga Epic Hero Titanium Carbon Graphite Onyx Jade Ruby Amber Topaz"
)
MODELS = MODEL_WORDS.split()
EDITIONS = ("", "", "", "Pro", "Max", "Lite", "Plus", "2", "3", "S", "X", "Ultra")
COLORS = ("Preto", "Branco", "Azul", "Vermelho", "Cinza", "Verde", "Rosa", "Bege", "Marrom")

STATUS_MIX = (("synced", 0.70), ("sending", 0.10), ("error", 0.15), ("unavailable", 0.05))
ORIGIN_MIX = (("catalog", 0.30), ("price", 0.45), ("inventory", 0.25))
# Result of an interaction that is not an offer's last one (the last one sets its status).
EARLIER_RESULTS = (("success", 0.76), ("failure", 0.14), ("notification", 0.10))
UNMAPPED_SHARE = 0.04  # errors whose code is not in the list (NTMAP-001)

CODES_BY_ORIGIN = {
    "catalog": (
        *(f"CTLG-{n:03d}" for n in range(1, 13)),
        "AUTH-001",
    ),
    "price": ("PRICE-001", "PRICE-001", "PRICE-001", "AUTH-001"),
    "inventory": ("INVNT-001", "INVNT-001", "INVNT-001", "AUTH-002"),
}
TITLES = {
    "AUTH-001": "Invalid marketplace credentials",
    "AUTH-002": "Access to the resource denied",
    "CTLG-001": "Brand not mapped",
    "CTLG-002": "Variation not mapped",
    "CTLG-003": "Required attribute missing",
    "CTLG-004": "Category not mapped",
    "CTLG-005": "Product information incomplete",
    "CTLG-006": "Product title too long",
    "CTLG-007": "Invalid EAN",
    "CTLG-008": "Image rejected",
    "CTLG-009": "Description rejected",
    "CTLG-010": "Dimensions missing",
    "CTLG-011": "Weight missing",
    "CTLG-012": "Listing type not allowed",
    "INVNT-001": "Inventory rejected",
    "PRICE-001": "Price out of range",
}
UNMAPPED_TEMPLATES = (
    "Attribute '{word}' is required for category {n}",
    "Listing {n} was paused by moderation: {word}",
    "The seller {n} has no shipping mode '{word}' enabled",
    "Item {n} already exists with another id",
    "Field '{word}' exceeds {n} characters",
    "Unexpected answer from marketplace gateway (code {n})",
)
UNMAPPED_WORDS = ("voltage", "gtin", "warranty", "size_grid", "material", "model", "color")


@dataclass(frozen=True, slots=True)
class Feed:
    id: str
    vendor: str
    name: str
    share: float
    prefix: str  # of the marketplace's offer ids

    @staticmethod
    def of(vendor: str, name: str, share: float) -> Feed:
        from sentoffers.domain.ids import channel_id

        feed_id = channel_id(vendor, name)
        return Feed(feed_id, vendor, name, share, re.sub("[^A-Z]", "", vendor.upper())[:3])


def weighted(rng: random.Random, pairs: tuple[tuple[str, float], ...]) -> str:
    x = rng.random()
    for value, weight in pairs:
        x -= weight
        if x < 0:
            return value
    return pairs[-1][0]


class Catalog:
    """The seller's SKUs: name, brand, category; each one is sent to a few feeds."""

    def __init__(self, skus: int, rng: random.Random):
        heads, tails = BRAND_HEADS.split(), BRAND_TAILS.split()
        self.brands = [h + t for h in heads for t in tails]  # 300
        self.sku_ids = [str(1_000_000 + i) for i in range(skus)]
        self.category = array("B", (rng.randrange(len(CATEGORIES)) for _ in range(skus)))
        self.brand = array("H", (rng.randrange(len(self.brands)) for _ in range(skus)))
        self.names = []
        for i in range(skus):
            noun = CATEGORIES[self.category[i]][1]
            edition = rng.choice(EDITIONS)
            model = f"{rng.choice(MODELS)} {edition}".strip()
            brand = self.brands[self.brand[i]]
            self.names.append(f"{noun} {brand} {model} {rng.choice(COLORS)}")

    def __len__(self) -> int:
        return len(self.sku_ids)


EPOCH = datetime(1970, 1, 1)


def naive(ts: float) -> datetime:
    """A POSIX time as the naive UTC datetime the store keeps."""
    return EPOCH + timedelta(seconds=ts)


class Generator:
    """Rows of offers, interactions, logs, errors and status history, consistent with the
    service's rules (sentoffers.domain.rules), one offer at a time."""

    def __init__(self, account: str, feeds: list[Feed], catalog: Catalog, now: float, seed: int):
        from sentoffers.domain.error_codes import fingerprint

        self.fingerprint = fingerprint
        self.account = account
        self.feeds = feeds
        self.catalog = catalog
        self.now = now
        self.oldest = now - HISTORY_DAYS * DAY
        self.rng = random.Random(seed)
        self._seq = 0
        self.status_counts: Counter[tuple[str, str]] = Counter()
        self.unmapped: dict[str, dict[str, Any]] = {}

    def new_id(self, ts: float) -> str:
        """A time-ordered id of the service's shape (sentoffers.domain.ids) for time ``ts``."""
        self._seq = (self._seq + 1) & 0xFFFF
        return f"{int(ts * 1000):012X}{self._seq:04X}{self.rng.getrandbits(64):016X}"

    # ------------------------------------------------------------------ one offer

    def offer(
        self,
        feed: Feed,
        sku_index: int,
        target: str,
        log_counts: list[int],
        out: dict[str, list[dict[str, Any]]],
    ) -> None:
        rng, account, catalog = self.rng, self.account, self.catalog
        sku = catalog.sku_ids[sku_index]
        n = len(log_counts)
        if target == "sending":  # the last interaction is open: recent, within the idle timeout
            last = self.now - rng.uniform(60, 20 * 3600)
            starts = sorted(rng.uniform(self.oldest, last - 3600) for _ in range(n - 1))
            starts.append(last)
        else:
            starts = sorted(rng.uniform(self.oldest, self.now - 600) for _ in range(n))

        status: str | None = None
        open_errors: list[dict[str, Any]] = []
        occurrences: list[dict[str, Any]] = []
        offer: dict[str, Any] = {
            "account": account,
            "feed_id": feed.id,
            "sku_id": sku,
            "status": "sending",
            "name": None,
            "image": None,
            "product_id": None,
            "brand": None,
            "category": None,
            "external_offer_id": None,
            "price": None,
            "sales_price": None,
            "currency": None,
            "inventory": None,
            "last_interaction_id": None,
            "created_at": None,
            "updated_at": None,
            "status_since": None,
            "metadata_checked_at": None,
        }
        previous_end = 0.0

        def change(
            to: str, interaction_id: str, log_id: str | None, reason: str, at: float
        ) -> None:
            nonlocal status
            if status == to:
                return
            out["offer_status_history"].append(
                {
                    "account": account,
                    "id": self.new_id(at),
                    "feed_id": feed.id,
                    "sku_id": sku,
                    "from_status": status,
                    "to_status": to,
                    "interaction_id": interaction_id,
                    "log_id": log_id,
                    "reason": reason,
                    "changed_at": naive(at),
                }
            )
            status = to
            offer["status_since"] = naive(at)

        for k, log_count in enumerate(log_counts):
            final = k == n - 1
            start = max(starts[k], previous_end + 1.0)
            if final:
                result = {
                    "synced": "success",
                    "unavailable": "success",
                    "error": "failure",
                    "sending": "processing",
                }[target]
            elif target == "sending":  # no error may be left open before a setup send
                result = "success" if rng.random() < 0.85 else "notification"
            else:
                result = weighted(rng, EARLIER_RESULTS)
            if k == 0:
                origin = "catalog"  # an offer starts with its catalog data
            elif open_errors:
                origin = open_errors[0]["origin"]  # retried until it goes through
            else:
                origin = weighted(rng, ORIGIN_MIX)
            context = "setup" if k == 0 or result == "processing" else "ongoing"
            source = "channel" if result == "notification" else "seller"
            interaction_id = self.new_id(start)
            received = start + rng.uniform(0.02, 1.5)
            if k == 0:  # the first interaction creates the offer, in Sending
                offer["created_at"] = naive(start + 0.01)
                change(
                    "sending",
                    interaction_id,
                    None,
                    "first interaction on the SKU (catalog)",
                    start + 0.01,
                )
            interaction_data: dict[str, str] = {}
            last_log_id = ""
            at = start
            for j in range(log_count):
                last_log = j == log_count - 1
                if j:
                    at += rng.uniform(0.5, 90.0)
                    received = at + rng.uniform(0.02, 1.5)
                log_id = self.new_id(at)
                log_type = "information"
                if last_log and result == "success":
                    log_type = "success"
                elif last_log and result == "failure":
                    log_type = "failure"
                data = self._log_data(feed, sku_index, origin, log_type, k == 0 and j == 0)
                if final and target == "unavailable" and last_log:
                    data["status"] = "unavailable"
                errors = None
                if log_type == "failure":
                    errors = self._failure(
                        feed, sku, origin, interaction_id, log_id, at, open_errors, occurrences
                    )
                    change(
                        "error",
                        interaction_id,
                        log_id,
                        f"{origin} failure log reported {len(errors)} error(s)",
                        received,
                    )
                out["logs"].append(
                    {
                        "account": account,
                        "id": log_id,
                        "interaction_id": interaction_id,
                        "feed_id": feed.id,
                        "sku_id": sku,
                        "seq": j + 1,
                        "date": naive(at),
                        "type": log_type,
                        "description": self._description(feed, origin, log_type, result, data),
                        "agent": f"{feed.id.split('.')[0]}-connector/2.3.1",
                        "evidence": self._evidence(feed, sku, origin, log_type),
                        "data": data or None,
                        "errors": errors,
                        "created_at": naive(received),
                    }
                )
                interaction_data.update(data)
                self._apply(offer, data, log_type)
                last_log_id = log_id
            closed = result != "processing"
            closed_at = received + rng.uniform(0.01, 0.5) if closed else None
            end = closed_at if closed_at is not None else received
            offer["last_interaction_id"] = interaction_id
            offer["updated_at"] = naive(end)
            if result == "processing" and status not in ("error", "sending"):
                change(
                    "sending",
                    interaction_id,
                    None,
                    f"{origin} setup interaction is processing",
                    start,
                )
            elif result == "success":
                still_open = []
                for error in open_errors:
                    if origin in error["closable_origins"]:
                        error["open"] = False
                        error["closed_at"] = naive(end)
                        error["closed_by_interaction_id"] = interaction_id
                    else:
                        still_open.append(error)
                open_errors = still_open
                if interaction_data.get("status") == "unavailable":
                    change(
                        "unavailable",
                        interaction_id,
                        last_log_id,
                        f"{origin} success said the offer is unavailable",
                        end,
                    )
                elif not open_errors:
                    change(
                        "synced",
                        interaction_id,
                        last_log_id,
                        f"{origin} success left no open error",
                        end,
                    )
            out["interactions"].append(
                {
                    "account": account,
                    "id": interaction_id,
                    "feed_id": feed.id,
                    "sku_id": sku,
                    "start_date": naive(start),
                    "source": source,
                    "origin": origin,
                    "context": context,
                    "state": "closed" if closed else "open",
                    "result": result,
                    "has_failure": result == "failure",
                    "has_success": result == "success",
                    "data": interaction_data or None,
                    "last_log_id": last_log_id,
                    "log_count": log_count,
                    "last_activity_at": naive(received),
                    "closed_at": naive(closed_at) if closed_at is not None else None,
                    "created_at": naive(start + 0.01),
                }
            )
            previous_end = end
        assert status == target, (status, target)
        offer["status"] = target
        if rng.random() < 0.6:
            offer["metadata_checked_at"] = offer["updated_at"]
        out["offers"].append(offer)
        out["error_occurrences"].extend(occurrences)
        self.status_counts[(feed.id, target)] += 1

    # ------------------------------------------------------------------ pieces

    def _log_data(
        self, feed: Feed, sku_index: int, origin: str, log_type: str, first: bool
    ) -> dict[str, str]:
        """What a log's ``data`` carries: the catalog data first, then values per origin."""
        rng, catalog = self.rng, self.catalog
        data: dict[str, str] = {}
        if first or (origin == "catalog" and log_type != "information"):
            category = CATEGORIES[catalog.category[sku_index]][0]
            sku = catalog.sku_ids[sku_index]
            data.update(
                name=catalog.names[sku_index],
                brand=catalog.brands[catalog.brand[sku_index]],
                category=category,
                productId=str(500_000 + sku_index // 3),
                image=f"https://images.example.com/bench/{sku}.jpg",
            )
            if log_type == "success":
                data["externalOfferId"] = f"{feed.prefix}{rng.randrange(10**9):09d}"
        elif origin == "price" and log_type != "information":
            price = 20 + (sku_index * 7919 % 500_000) / 100
            price *= rng.choice((1.0, 1.0, 0.95, 1.05, 0.9))
            data.update(price=f"{price:.2f}", salesPrice=f"{price * 0.9:.2f}", currency="BRL")
        elif origin == "inventory" and log_type != "information":
            data["inventory"] = str(rng.randrange(0, 250))
        return data

    @staticmethod
    def _apply(offer: dict[str, Any], data: dict[str, str], log_type: str) -> None:
        """The offer keeps the last metadata, and the last values of non-failure logs."""
        for key, column in (
            ("name", "name"),
            ("image", "image"),
            ("productId", "product_id"),
            ("brand", "brand"),
            ("category", "category"),
        ):
            if key in data:
                offer[column] = data[key]
        if log_type == "failure":
            return
        for key, column in (
            ("externalOfferId", "external_offer_id"),
            ("price", "price"),
            ("salesPrice", "sales_price"),
            ("currency", "currency"),
            ("inventory", "inventory"),
        ):
            if key in data:
                offer[column] = data[key]

    @staticmethod
    def _description(
        feed: Feed, origin: str, log_type: str, result: str, data: dict[str, str]
    ) -> str:
        if result == "notification":
            return f"{feed.vendor} reviewed the listing ({origin})"
        if log_type == "success":
            return {
                "catalog": "Offer published",
                "price": "Price updated",
                "inventory": "Inventory updated",
            }[origin]
        if log_type == "failure":
            return f"{origin.capitalize()} rejected by {feed.vendor}"
        if origin == "price" and "price" in data:
            return f"Sending price {data['price']} BRL to {feed.vendor}"
        return f"Sending {origin} to {feed.vendor}"

    @staticmethod
    def _evidence(feed: Feed, sku: str, origin: str, log_type: str) -> dict[str, str] | None:
        if log_type == "information":
            return None
        host = feed.id.split(".")[0]
        response = "200 OK" if log_type == "success" else "422 Unprocessable Entity"
        return {
            "request": f"PUT https://api.{host}.example.com/v2/items/{sku}/{origin} "
            '{"sellerSku": "' + sku + '", "source": "vtex"}',
            "response": response,
        }

    def _failure(
        self,
        feed: Feed,
        sku: str,
        origin: str,
        interaction_id: str,
        log_id: str,
        at: float,
        open_errors: list[dict[str, Any]],
        occurrences: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """The log's errors; each opens an occurrence or refreshes the open one (same code)."""
        rng = self.rng
        errors = []
        for _ in range(1 if rng.random() < 0.7 else 2):
            if rng.random() < UNMAPPED_SHARE:
                code = f"MKT-{rng.randrange(100, 1000)}"
                base, mapped = "NTMAP-001", False
                title = "Marketplace error"
                description = rng.choice(UNMAPPED_TEMPLATES).format(
                    word=rng.choice(UNMAPPED_WORDS), n=rng.randrange(1000, 99999)
                )
                fingerprint = self.fingerprint(description)
                self._sight(fingerprint, code, description, at)
            else:
                base = rng.choice(CODES_BY_ORIGIN[origin])
                code = f"{base}-{rng.randrange(1, 30):03d}" if rng.random() < 0.6 else base
                mapped, fingerprint = True, None
                title = TITLES[base]
                description = f"{title}: SKU {sku} on {feed.vendor}"
            external = f"{feed.prefix}-{rng.randrange(100, 999)}"
            errors.append(
                {
                    "code": code,
                    "externalCode": external,
                    "title": title,
                    "description": description,
                    "closableOrigins": [origin],
                    "errorCodeId": base,
                    "mapped": mapped,
                }
            )
            same = next(
                (
                    e
                    for e in open_errors
                    if e["code"] == code
                    and e["external_code"] == external
                    and e["fingerprint"] == fingerprint
                ),
                None,
            )
            if same is not None:  # refreshed, not repeated
                same.update(
                    interaction_id=interaction_id,
                    log_id=log_id,
                    date=naive(at),
                    origin=origin,
                    title=title,
                    description=description,
                    closable_origins=[origin],
                )
                continue
            occurrence = {
                "account": self.account,
                "id": self.new_id(at),
                "feed_id": feed.id,
                "sku_id": sku,
                "code": code,
                "error_code_id": base,
                "external_code": external,
                "title": title,
                "description": description,
                "closable_origins": [origin],
                "origin": origin,
                "fingerprint": fingerprint,
                "interaction_id": interaction_id,
                "log_id": log_id,
                "date": naive(at),
                "open": True,
                "closed_at": None,
                "closed_by_interaction_id": None,
            }
            open_errors.append(occurrence)
            occurrences.append(occurrence)
        return errors

    def _sight(self, fingerprint: str, code: str, description: str, at: float) -> None:
        row = self.unmapped.get(fingerprint)
        if row is None:
            self.unmapped[fingerprint] = {
                "account": self.account,
                "fingerprint": fingerprint,
                "sample_code": code,
                "sample_description": description,
                "occurrences": 1,
                "first_seen": naive(at),
                "last_seen": naive(at),
            }
            return
        row["occurrences"] += 1
        row["first_seen"] = min(row["first_seen"], naive(at))
        row["last_seen"] = max(row["last_seen"], naive(at))


# --------------------------------------------------------------------------- loading


def spread(total: int, buckets: int, rng: random.Random, typecode: str) -> array[int]:
    """``buckets`` counts of at least 1 summing to ``total``, the extra ones at random."""
    counts = array(typecode, [1]) * buckets
    for _ in range(total - buckets):
        counts[rng.randrange(buckets)] += 1
    return counts


def secondary_indexes(conn: Any, table: str) -> list[tuple[str, str]]:
    """(name, DDL) of the table's indexes that are not its primary key, as the database has
    them: rebuilt from this text, they come back exactly as the migrations made them."""
    from sqlalchemy import text

    if conn.dialect.name == "sqlite":
        rows = conn.execute(
            text(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL ORDER BY name"
            ),
            {"t": table},
        )
    else:
        rows = conn.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = current_schema() AND tablename = :t "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname"
            ),
            {"t": table},
        )
    return [(name, ddl) for name, ddl in rows]


def expected_indexes() -> set[str]:
    from sentoffers.server.store.tables import metadata

    return {
        str(index.name)
        for name in LOADED_TABLES
        for index in metadata.tables[name].indexes
        if index.name
    }


class Loader:
    """Writes the generated rows: Core executemany, or COPY on PostgreSQL."""

    def __init__(self, engine: Any, method: str):
        from sentoffers.server.store import tables

        self.engine = engine
        self.tables = tables
        self.method = method
        self.sqlite = engine.dialect.name == "sqlite"

    def write(self, conn: Any, rows: dict[str, list[dict[str, Any]]]) -> None:
        for name, table_rows in rows.items():
            if not table_rows:
                continue
            table = self.tables.metadata.tables[name]
            if self.method == "copy":
                self._copy(conn, table, table_rows)
            else:
                conn.execute(table.insert(), table_rows)

    @staticmethod
    def _copy(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
        from sqlalchemy import JSON

        columns = list(rows[0])  # generated columns (offers.search_text) are left out
        json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
        raw = conn.connection.driver_connection
        names = ", ".join(columns)
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        json.dumps(row[c]) if c in json_columns and row[c] is not None else row[c]
                        for c in columns
                    ]
                )


def create_feeds(db: Any, account: str, feeds: list[Feed]) -> None:
    """The channels and the account's active feeds, through the services."""
    from sentoffers.contract.channels import ChannelCreate
    from sentoffers.contract.feeds import FeedCreate
    from sentoffers.domain.errors import Conflict
    from sentoffers.server.features import channels as channels
    from sentoffers.server.features import feeds as feeds_service

    for feed in feeds:
        logo = f"https://example.com/logos/{feed.id}.png"
        with contextlib.suppress(Conflict):
            channels.create(
                db, account, ChannelCreate(vendor=feed.vendor, name=feed.name, logo=logo)
            )
        with contextlib.suppress(Conflict):
            feeds_service.activate(
                db, account, FeedCreate(id=feed.id, affiliate_id="BEN", sales_channel="1")
            )


def load(args: argparse.Namespace, db: Any, feeds: list[Feed]) -> dict[str, Any]:
    """Build the store; returns the figures of the load."""
    from sqlalchemy import text

    from sentoffers.server.store.tables import offer_status_counts, unmapped_errors

    engine = db.engine
    kind = engine.dialect.name
    method = "copy" if kind == "postgresql" and args.pg_load == "copy" else "executemany"
    interactions = max(args.offers, args.interactions or args.logs // 2)
    if args.logs < interactions:
        sys.exit(f"error: --logs ({args.logs}) must be at least the interactions ({interactions})")
    print(
        f"load: {args.offers:,} offers, {interactions:,} interactions, {args.logs:,} logs "
        f"for account {args.account!r} over {len(feeds)} feeds ({method})",
        flush=True,
    )
    started = time.perf_counter()
    rng = random.Random(args.seed)
    create_feeds(db, args.account, feeds)
    catalog = Catalog(max(100, args.offers // 3), rng)
    # Each feed gets its share of the offers, each a distinct SKU of the catalog.
    pairs: list[tuple[int, int]] = []
    for f, feed in enumerate(feeds):
        size = round(args.offers * feed.share) if f else 0
        pairs.extend((f, s) for s in rng.sample(range(len(catalog)), min(size, len(catalog))))
    first = args.offers - len(pairs)
    pairs.extend((0, s) for s in rng.sample(range(len(catalog)), first))
    rng.shuffle(pairs)  # rows land in no particular order, as over months of traffic
    per_offer = spread(interactions, args.offers, rng, "H")
    per_interaction = spread(args.logs, interactions, rng, "H")
    prepared = time.perf_counter() - started
    print(f"load: catalog of {len(catalog):,} SKUs and the spread in {prepared:.1f}s", flush=True)

    generator = Generator(args.account, feeds, catalog, time.time(), args.seed + 1)
    loader = Loader(engine, method)
    totals: Counter[str] = Counter()
    dropped: list[tuple[str, str]] = []
    with engine.connect() as conn:
        if kind == "sqlite":  # this connection only, for the load (autocommit at this level)
            raw = conn.connection.driver_connection
            for pragma in ("synchronous=OFF", "cache_size=-2000000", "temp_store=MEMORY"):
                raw.execute(f"PRAGMA {pragma}")
        else:
            with conn.begin():  # session settings, for the load and the index builds
                conn.exec_driver_sql("SET synchronous_commit = off")
                conn.exec_driver_sql("SET maintenance_work_mem = '1GB'")
                conn.exec_driver_sql("SET max_parallel_maintenance_workers = 2")
        with conn.begin():
            for name in LOADED_TABLES:
                dropped.extend(secondary_indexes(conn, name))
            for index_name, _ in dropped:
                conn.execute(text(f"DROP INDEX {index_name}"))
        try:
            t_rows = time.perf_counter()
            last_print = t_rows
            interaction_cursor = 0
            chunk = args.chunk_offers
            for begin in range(0, args.offers, chunk):
                out: dict[str, list[dict[str, Any]]] = {
                    name: [] for name in ("offers", *LOADED_TABLES[1:])
                }
                for i in range(begin, min(begin + chunk, args.offers)):
                    f, s = pairs[i]
                    n = per_offer[i]
                    counts = list(per_interaction[interaction_cursor : interaction_cursor + n])
                    interaction_cursor += n
                    generator.offer(feeds[f], s, weighted(rng, STATUS_MIX), counts, out)
                with conn.begin():
                    loader.write(conn, out)
                for name, table_rows in out.items():
                    totals[name] += len(table_rows)
                now = time.perf_counter()
                done = min(begin + chunk, args.offers)
                if now - last_print >= 10 or done == args.offers:
                    last_print = now
                    rate = sum(totals.values()) / (now - t_rows)
                    print(
                        f"load: {done:>10,}/{args.offers:,} offers, {totals['logs']:>11,} logs, "
                        f"{sum(totals.values()):>12,} rows, {rate:>9,.0f} rows/s, "
                        f"{now - started:7.1f}s",
                        flush=True,
                    )
            assert interaction_cursor == interactions
            rows_seconds = time.perf_counter() - t_rows
            with conn.begin():
                conn.execute(
                    offer_status_counts.insert(),
                    [
                        {"account": args.account, "feed_id": f, "status": s, "offers": n}
                        for (f, s), n in sorted(generator.status_counts.items())
                    ],
                )
                if generator.unmapped:
                    conn.execute(unmapped_errors.insert(), list(generator.unmapped.values()))
            totals["offer_status_counts"] = len(generator.status_counts)
            totals["unmapped_errors"] = len(generator.unmapped)
        finally:  # the indexes come back even if the load failed half-way
            t_index = time.perf_counter()
            if conn.in_transaction():
                conn.rollback()
            for index_name, ddl in dropped:
                t0 = time.perf_counter()
                with conn.begin():
                    conn.execute(text(ddl))
                print(f"load: index {index_name} built in {time.perf_counter() - t0:.1f}s")
        index_seconds = time.perf_counter() - t_index
        t_analyze = time.perf_counter()
        analyze(conn)
        analyze_seconds = time.perf_counter() - t_analyze
    elapsed = time.perf_counter() - started
    print(
        f"load: {sum(totals.values()):,} rows in {elapsed:.1f}s (rows {rows_seconds:.1f}s, "
        f"indexes {index_seconds:.1f}s, analyze {analyze_seconds:.1f}s)",
        flush=True,
    )
    return {
        "load_method": method,
        "load_s": round(elapsed, 1),
        "load_rows_s": round(rows_seconds, 1),
        "load_indexes_s": round(index_seconds, 1),
        "load_analyze_s": round(analyze_seconds, 1),
        "rows": dict(totals),
    }


def analyze(conn: Any) -> None:
    """Fresh statistics: ANALYZE + PRAGMA optimize (SQLite), VACUUM ANALYZE (PostgreSQL,
    which also sets the visibility map, as autovacuum would have on a live store)."""
    if conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection  # autocommit: outside any transaction
        for statement in ("PRAGMA wal_checkpoint(TRUNCATE)", "ANALYZE", "PRAGMA optimize"):
            raw.execute(statement).fetchall()
        return
    autocommit = conn.execution_options(isolation_level="AUTOCOMMIT")
    for name in (*LOADED_TABLES, "offer_status_counts", "unmapped_errors", "feeds", "channels"):
        autocommit.exec_driver_sql(f"VACUUM (ANALYZE) {name}")


def store_figures(db: Any, account: str) -> dict[str, Any]:
    """Row counts of the account, and whether the status counts match the offers."""
    from sqlalchemy import func, select

    from sentoffers.server.store.tables import metadata, offer_status_counts, offers

    counts: dict[str, int] = {}
    with db.engine.connect() as conn:
        for name in (*LOADED_TABLES, "offer_status_counts", "unmapped_errors"):
            table = metadata.tables[name]
            counts[name] = conn.execute(
                select(func.count()).select_from(table).where(table.c.account == account)
            ).scalar_one()
        actual = {
            (f, s): n
            for f, s, n in conn.execute(
                select(offers.c.feed_id, offers.c.status, func.count())
                .where(offers.c.account == account)
                .group_by(offers.c.feed_id, offers.c.status)
            )
        }
        kept = {
            (f, s): n
            for f, s, n in conn.execute(
                select(
                    offer_status_counts.c.feed_id,
                    offer_status_counts.c.status,
                    offer_status_counts.c.offers,
                ).where(offer_status_counts.c.account == account, offer_status_counts.c.offers != 0)
            )
        }
        by_status: Counter[str] = Counter()
        for (_, s), n in actual.items():
            by_status[s] += n
        present = set()
        for name in LOADED_TABLES:
            present.update(index for index, _ in secondary_indexes(conn, name))
    missing = sorted(expected_indexes() - present)
    return {
        "counts": counts,
        "statuses": dict(by_status),
        "status_counts_consistent": actual == kept,
        "missing_indexes": missing,
    }


# --------------------------------------------------------------------------- the service


def viewer_key(db: Any, account: str) -> tuple[str, str]:
    from sentoffers.domain.model import Role
    from sentoffers.server.features.keys import create_key

    key = create_key(db, Role.VIEWER, [account], label="benchmarks/search.py")
    return key.app_key, key.app_token


def revoke(db: Any, app_key: str) -> None:
    from sentoffers.server.features.keys import revoke_key

    revoke_key(db, app_key)


# --------------------------------------------------------------------------- page cache


def store_files(database_url: str, server: Any) -> Callable[[], list[Path]]:
    """The files holding the store: the SQLite file (and its WAL), or the database files of
    the throwaway PostgreSQL server; none for an external server."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        path = Path(url.database)
        return lambda: [p for p in (path, Path(f"{path}-wal")) if p.exists()]
    if server is not None and not server.is_external and server.data_dir is not None:
        base = server.data_dir / "base"
        return lambda: sorted(p for p in base.rglob("*") if p.is_file())
    return list


def prewarm(files: Callable[[], list[Path]]) -> None:
    """Read the store's files, so that the reads measure the queries rather than the disk.

    On the reference VM the page cache is reclaimed continuously (a few GB over minutes,
    with most of the memory free), so a store of several GB is never wholly cached on its
    own; a server with enough memory would keep its working set cached.
    """
    paths = files()
    if not paths:
        return
    t0 = time.perf_counter()
    size = 0
    for path in paths:
        with contextlib.suppress(OSError), path.open("rb", buffering=0) as handle:
            while chunk := handle.read(8 << 20):
                size += len(chunk)
    print(f"prewarm: read {size / 2**30:.1f} GiB in {time.perf_counter() - t0:.1f}s", flush=True)


# --------------------------------------------------------------------------- the reads


@dataclass
class Series:
    name: str
    latencies: list[float] = field(default_factory=list)
    reads: list[Read] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)

    def add(self, seconds: float, response: httpx.Response, read: Read) -> None:
        self.latencies.append(seconds)
        self.reads.append(read)
        self.statuses[response.status_code] += 1
        if response.status_code != 200 and len(self.samples) < 5:
            self.samples.append(f"{response.status_code} {response.url}: {response.text[:300]}")

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def non_200(self) -> int:
        return self.requests - self.statuses.get(200, 0)

    def _rank(self, p: float) -> int:
        return max(1, min(len(self.latencies), round(p / 100 * len(self.latencies) + 0.5)))

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        if not self.latencies:
            return float("nan")
        return sorted(self.latencies)[self._rank(p) - 1] * 1000

    def read_at(self, p: float) -> Read:
        """The request whose latency is the nearest-rank percentile ``p``."""
        order = sorted(range(len(self.latencies)), key=self.latencies.__getitem__)
        return self.reads[order[self._rank(p) - 1]]

    def figures(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "p50_ms": round(self.percentile(50), 2),
            "p95_ms": round(self.percentile(95), 2),
            "p99_ms": round(self.percentile(99), 2),
            "max_ms": round(max(self.latencies) * 1000, 2) if self.latencies else None,
            "non_200": self.non_200,
        }


@dataclass(frozen=True, slots=True)
class Read:
    """One request: path and query parameters."""

    path: str
    params: dict[str, Any]


QUERIES = {
    "a": "offers by status",
    "b": "offers by channel + q",
    "c": "offer details",
    "d": "search interactions (3 filters)",
    "e": "search errors by channel",
    "f": "stuck offers",
}


class Workload:
    """Realistic parameters for the five reads, drawn from a sample of the stored offers."""

    def __init__(self, db: Any, account: str, seed: int):
        from sqlalchemy import func, select

        from sentoffers.server.store.tables import feeds, offers

        self.account = account
        self.rng = random.Random(seed)
        with db.engine.connect() as conn:
            self.feeds = sorted(
                conn.execute(
                    select(feeds.c.feed_id).where(
                        feeds.c.account == account, feeds.c.active.is_(True)
                    )
                ).scalars()
            )
            sample = conn.execute(
                select(offers.c.feed_id, offers.c.sku_id, offers.c.name)
                .where(offers.c.account == account, offers.c.last_interaction_id.is_not(None))
                .order_by(func.random())
                .limit(3000)
            ).all()
        if not self.feeds or not sample:
            sys.exit(f"error: account {account!r} has no offers in active feeds")
        self.offers = [(r.feed_id, r.sku_id) for r in sample]
        self.names: dict[str, list[str]] = defaultdict(list)
        for r in sample:
            if r.name:
                self.names[r.feed_id].append(r.name)

    def _page(self, first_page: float) -> dict[str, int]:
        start = 0 if self.rng.random() < first_page else 20 * self.rng.randint(1, 4)
        return {"from": start, "to": start + 19}

    def read(self, query: str) -> Read:
        rng = self.rng
        base = {"an": self.account}
        if query == "a":
            status = weighted(
                rng, (("error", 0.4), ("sending", 0.2), ("unavailable", 0.2), ("synced", 0.2))
            )
            return Read("/api/sent-offers/offers", {**base, "status": status, **self._page(0.8)})
        if query == "b":
            feed = rng.choice([f for f in self.feeds if self.names[f]])
            return Read(
                "/api/sent-offers/offers",
                {**base, "channel": feed, "q": self.part_of_name(feed), "from": 0, "to": 19},
            )
        if query == "c":
            feed, sku = rng.choice(self.offers)
            return Read(f"/api/sent-offers/feeds/{feed}/skus/{sku}", base)
        if query == "d":
            return Read(
                "/api/sent-offers/search/interactions",
                {
                    **base,
                    "channels": rng.choice(self.feeds),
                    "scope": weighted(rng, ORIGIN_MIX),
                    "result": weighted(
                        rng, (("success", 0.6), ("failure", 0.3), ("processing", 0.1))
                    ),
                    **self._page(0.9),
                },
            )
        if query == "e":
            return Read(
                "/api/sent-offers/search/errors", {**base, "channels": rng.choice(self.feeds)}
            )
        if query == "f":
            stuck = {**base, "stuck": "true", **self._page(0.8)}
            if rng.random() < 1 / 3:
                stuck["channel"] = rng.choice(self.feeds)
            return Read("/api/sent-offers/offers", stuck)
        raise ValueError(query)

    def part_of_name(self, feed: str) -> str:
        """What a seller types to find an offer: a model, brand + model, a product noun, or
        the first letters of a model."""
        words = self.rng.choice(self.names[feed]).split()
        # "Tênis Norvak Velox Pro Preto": noun(s), brand, model (+ edition), color
        kind = self.rng.random()
        if kind < 0.35:
            return words[-2] if words[-2] not in EDITIONS else words[-3]
        if kind < 0.6:
            brand_at = next(i for i, w in enumerate(words) if w.lower() in BRAND_SET)
            return f"{words[brand_at]} {words[brand_at + 1]}".lower()
        if kind < 0.8:
            return words[0].lower()
        model = words[-2] if words[-2] not in EDITIONS else words[-3]
        return model[: max(4, len(model) - 2)].lower()


BRAND_SET = {h.lower() + t for h in BRAND_HEADS.split() for t in BRAND_TAILS.split()}


def timed_get(client: httpx.Client, read: Read) -> tuple[float, httpx.Response]:
    t0 = time.perf_counter()
    response = client.get(read.path, params=read.params)
    return time.perf_counter() - t0, response


def measure(
    client: httpx.Client,
    workload: Workload,
    requests: int,
    warmup: int,
    warm: Callable[[], None],
) -> dict[str, Series]:
    results = {}
    for query, title in QUERIES.items():
        warm()
        for _ in range(warmup):
            timed_get(client, workload.read(query))
        series = Series(title)
        for _ in range(requests):
            read = workload.read(query)
            seconds, response = timed_get(client, read)
            series.add(seconds, response, read)
        results[query] = series
        print(
            f"reads: ({query}) {title:<34} p50 {series.percentile(50):8.1f} ms   "
            f"p95 {series.percentile(95):8.1f} ms   non-200 {series.non_200}",
            flush=True,
        )
    return results


# --------------------------------------------------------------------------- explain


class StatementCapture:
    """The SELECT statements an engine runs while active, with their parameters."""

    def __init__(self, engine: Any):
        from sqlalchemy import event

        self.engine = engine
        self.statements: list[tuple[str, Any]] = []
        self.active = False
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if self.active and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            self.statements.append((statement, parameters))

    @contextlib.contextmanager
    def capture(self) -> Iterator[list[tuple[str, Any]]]:
        self.statements = []
        self.active = True
        try:
            yield self.statements
        finally:
            self.active = False


def service_call(db: Any, account: str, read: Read) -> Callable[[], Any]:
    """The service function a read ends in, with the read's parameters."""
    from sentoffers.server.features import search as search_service
    from sentoffers.server.features.offers import service as offers_service
    from sentoffers.server.store.queries import window
    from sentoffers.server.web.api.paging import csv_values

    p = read.params
    win = window(p.get("from"), p.get("to"))
    if read.path == "/api/sent-offers/offers":
        return lambda: offers_service.list_offers(
            db,
            account,
            channels_=csv_values(p.get("channel")),
            statuses=csv_values(p.get("status")),
            q=p.get("q"),
            stuck={"true": True, "false": False}.get(p.get("stuck", "")),
            win=win,
        )
    if read.path == "/api/sent-offers/search/interactions":
        return lambda: search_service.search_interactions(
            db,
            account,
            channels_=csv_values(p.get("channels")),
            scopes=csv_values(p.get("scope")),
            results=csv_values(p.get("result")),
            win=win,
        )
    if read.path == "/api/sent-offers/search/errors":
        return lambda: search_service.search_errors(
            db, account, channels_=csv_values(p.get("channels")), win=win
        )
    _, feed, _, sku = read.path.rsplit("/", 3)
    return lambda: offers_service.get_offer(db, account, feed, sku)


def explain(db: Any, capture: StatementCapture, account: str, query: str, read: Read) -> str:
    """Each statement of one read: its time (best of 3) and its plan."""
    call = service_call(db, account, read)
    call()  # warm
    with capture.capture() as statements:
        call()
    lines = [f"--- ({query}) {QUERIES[query]}: {read.path} {json.dumps(read.params)}"]
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for number, (statement, parameters) in enumerate(statements, 1):
            best = float("inf")
            for _ in range(3):
                t0 = time.perf_counter()
                cursor.execute(statement, parameters)
                cursor.fetchall()
                best = min(best, time.perf_counter() - t0)
            lines.append(f"[{number}] {best * 1000:.1f} ms: {' '.join(statement.split())}")
            lines.append(f"    parameters: {parameters}")
            if db.sqlite:
                cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                plan = [f"    {row[0]:>3} {row[1]:>3} {row[3]}" for row in cursor.fetchall()]
            else:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plan = [f"    {row[0]}" for row in cursor.fetchall()]
            lines.extend(plan)
        raw.rollback()
    finally:
        raw.close()
    return "\n".join(lines)


def statement_times(db: Any, statements: list[tuple[str, Any]]) -> list[float]:
    """Each statement run again on its own, rows fetched, in milliseconds."""
    times = []
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in statements:
            t0 = time.perf_counter()
            cursor.execute(statement, parameters)
            cursor.fetchall()
            times.append((time.perf_counter() - t0) * 1000)
        raw.rollback()
    finally:
        raw.close()
    return times


def replay_slowest(
    db: Any, capture: StatementCapture, account: str, query: str, series: Series, count: int = 5
) -> str:
    """The slowest reads of a series run again in this process: the whole service call, and
    each of its statements alone, to tell a slow statement from a cold cache."""
    lines = [f"    slowest ({query}) reads again in-process: HTTP ms -> in-process ms = statements"]
    order = sorted(range(series.requests), key=series.latencies.__getitem__, reverse=True)
    for index in order[:count]:
        read = series.reads[index]
        call = service_call(db, account, read)
        with capture.capture() as statements:
            t0 = time.perf_counter()
            call()
            total = (time.perf_counter() - t0) * 1000
        times = statement_times(db, statements)
        parts = " ".join(f"[{n}] {ms:.1f}" for n, ms in enumerate(times, 1))
        params = {k: v for k, v in read.params.items() if k != "an"}
        lines.append(
            f"    {series.latencies[index] * 1000:8.1f} -> {total:7.1f} = {parts}   "
            f"{read.path.removeprefix('/api/sent-offers')} {params}"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- the purge


def purge_under_reads(
    args: argparse.Namespace, db: Any, client: httpx.Client, workload: Workload
) -> dict[str, Any]:
    try:
        from sentoffers.server.features.retention import purge_expired
    except ImportError:
        message = "purge_expired is not there yet: purge phase skipped"
        print(f"purge: {message}")
        return {"skipped": message}
    from sqlalchemy import text

    now = datetime.now(UTC)
    retention = timedelta(days=RETENTION_DAYS)
    cutoff = now - retention
    with db.engine.connect() as conn:
        due = conn.execute(
            text("SELECT count(*) FROM logs WHERE account = :a AND created_at < :c"),
            {"a": args.account, "c": cutoff.replace(tzinfo=None)},
        ).scalar_one()
    print(
        f"purge: logs older than {RETENTION_DAYS} days ({due:,} logs received before "
        f"{cutoff:%Y-%m-%d %H:%M} UTC) and closed interactions, chunks of "
        f"{args.chunk_rows:,}, while reads (b) and (c) go on ...",
        flush=True,
    )
    outcome: dict[str, Any] = {}

    def run() -> None:
        t0 = time.perf_counter()
        try:
            outcome["report"] = purge_expired(db, retention, now=now, chunk_rows=args.chunk_rows)
        except BaseException as error:
            outcome["error"] = error
        outcome["seconds"] = time.perf_counter() - t0

    reads = Series("reads (b)+(c) during the purge")
    by_query = {"b": Series(QUERIES["b"]), "c": Series(QUERIES["c"])}
    thread = threading.Thread(target=run, name="purge", daemon=True)
    thread.start()
    turn = 0
    last_print = time.perf_counter()
    while thread.is_alive():
        query = "bc"[turn % 2]
        read = workload.read(query)
        seconds, response = timed_get(client, read)
        reads.add(seconds, response, read)
        by_query[query].add(seconds, response, read)
        turn += 1
        if time.perf_counter() - last_print >= 15:
            last_print = time.perf_counter()
            print(
                f"purge: running, {reads.requests:,} reads so far, p95 "
                f"{reads.percentile(95):.1f} ms, non-200 {reads.non_200}",
                flush=True,
            )
    thread.join()
    if "error" in outcome:
        raise RuntimeError("the purge failed") from outcome["error"]
    report = outcome["report"]
    t0 = time.perf_counter()
    with db.engine.connect() as conn:
        orphans = conn.execute(
            text(
                "SELECT count(*) FROM logs l WHERE l.account = :a AND NOT EXISTS "
                "(SELECT 1 FROM interactions i WHERE i.account = l.account "
                "AND i.id = l.interaction_id)"
            ),
            {"a": args.account},
        ).scalar_one()
        old_logs = conn.execute(
            text("SELECT count(*) FROM logs WHERE account = :a AND created_at < :c"),
            {"a": args.account, "c": cutoff.replace(tzinfo=None)},
        ).scalar_one()
        old_closed = conn.execute(
            text(
                "SELECT count(*) FROM interactions WHERE account = :a AND state = 'closed' "
                "AND closed_at < :c"
            ),
            {"a": args.account, "c": cutoff.replace(tzinfo=None)},
        ).scalar_one()
    check_seconds = time.perf_counter() - t0
    figures = {
        "purge_s": round(outcome["seconds"], 1),
        "purged_logs": report.logs,
        "purged_interactions": report.interactions,
        "purge_transactions": report.transactions,
        "chunk_rows": args.chunk_rows,
        "reads_during_purge": reads.requests,
        "reads_during_purge_p50_ms": round(reads.percentile(50), 2),
        "reads_during_purge_p95_ms": round(reads.percentile(95), 2),
        "reads_during_purge_p99_ms": round(reads.percentile(99), 2),
        "reads_during_purge_max_ms": round(max(reads.latencies) * 1000, 2)
        if reads.latencies
        else None,
        "reads_during_purge_non_200": reads.non_200,
        "reads_during_purge_by_query": {q: s.figures() for q, s in by_query.items()},
        "orphan_logs": orphans,
        "logs_left_before_cutoff": old_logs,
        "closed_interactions_left_before_cutoff": old_closed,
    }
    print(
        f"purge: {report.logs:,} logs and {report.interactions:,} interactions deleted in "
        f"{outcome['seconds']:.1f}s ({report.transactions:,} transactions); "
        f"{reads.requests:,} reads meanwhile, p50 {reads.percentile(50):.1f} ms, "
        f"p95 {reads.percentile(95):.1f} ms, p99 {reads.percentile(99):.1f} ms, "
        f"{reads.non_200} non-200"
    )
    for query, series in by_query.items():
        print(
            f"purge: ({query}) {series.name} during the purge: {series.requests:,} reads, "
            f"p50 {series.percentile(50):.1f} ms, p95 {series.percentile(95):.1f} ms, "
            f"p99 {series.percentile(99):.1f} ms"
        )
    for sample in reads.samples:
        print(f"  ! {sample}")
    print(
        f"purge: orphan logs (interaction gone): {orphans}; logs left older than the cutoff: "
        f"{old_logs}; closed interactions left older than the cutoff: {old_closed} "
        f"(checked in {check_seconds:.1f}s)"
    )
    return figures


# --------------------------------------------------------------------------- the run


def report_table(results: dict[str, Series], kind: str) -> None:
    print()
    print(f"reads on {kind}, one at a time over HTTP (target p95 < {TARGET_P95_MS:.0f} ms)")
    header = f"{'query':<38}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}"
    print(header + f"{'non-200':>9}  target")
    for query, series in results.items():
        p95 = series.percentile(95)
        print(
            f"({query}) {series.name:<34}{series.requests:>6}{series.percentile(50):>10.1f}"
            f"{p95:>10.1f}{series.percentile(99):>10.1f}{max(series.latencies) * 1000:>10.1f}"
            f"{series.non_200:>9}  {'ok' if p95 < TARGET_P95_MS else 'OVER'}"
        )
        for sample in series.samples:
            print(f"  ! {sample}")
    print()


def run(args: argparse.Namespace, database_url: str, workdir: Path) -> dict[str, Any]:
    from sentoffers.server.app import open_database
    from sentoffers.server.settings import Settings
    from sentoffers.server.store.tables import offers

    db = open_database(Settings(database_url=database_url, db_pool_size=4))  # migrates
    kind = db.engine.dialect.name
    figures: dict[str, Any] = {"database": kind, "account": args.account}
    try:
        from sqlalchemy import func, select

        with db.engine.connect() as conn:
            existing = conn.execute(
                select(func.count()).select_from(offers).where(offers.c.account == args.account)
            ).scalar_one()
        feeds = [Feed.of(*spec) for spec in FEEDS]
        if existing and not args.reuse:
            sys.exit(
                f"error: the store already holds {existing:,} offers of {args.account!r}; "
                "give --reuse to measure them, or another database"
            )
        if existing:
            print(f"load: reusing the {existing:,} offers of {args.account!r} already stored")
            figures["load_s"] = None
            figures["reused"] = True
        else:
            figures.update(load(args, db, feeds))
            figures["reused"] = False
        store = store_figures(db, args.account)
        figures.update(store)
        print(
            "store: "
            + ", ".join(f"{n:,} {name}" for name, n in store["counts"].items())
            + f"; statuses {store['statuses']}; status counts consistent: "
            f"{store['status_counts_consistent']}"
        )
        if store["missing_indexes"]:
            sys.exit(f"error: indexes missing from the store: {store['missing_indexes']}")

        app_key, app_token = viewer_key(db, args.account)
        try:
            workload = Workload(db, args.account, args.seed + 2)
            headers = {"X-VTEX-API-AppKey": app_key, "X-VTEX-API-AppToken": app_token}
            with (
                started_service(database_url, workdir) as base_url,
                httpx.Client(base_url=base_url, headers=headers, timeout=HTTP_TIMEOUT) as client,
            ):
                print(
                    f"reads: {args.requests} requests per query after {args.warmup} of warm-up, "
                    "one at a time",
                    flush=True,
                )
                warm = (lambda: prewarm(args.store_files)) if args.prewarm else (lambda: None)
                results = measure(client, workload, args.requests, args.warmup, warm)
                report_table(results, kind)
                figures["reads"] = {q: s.figures() for q, s in results.items()}
                over = [q for q, s in results.items() if s.percentile(95) >= TARGET_P95_MS]
                figures["over_target"] = over
                explained = list(QUERIES) if args.explain else over
                if explained:
                    capture = StatementCapture(db.engine)
                    print(f"explain: the statements of {', '.join(explained)}, best of 3 runs")
                    for query in explained:  # the request at the p95 rank of each
                        warm()
                        read = results[query].read_at(95)
                        print(explain(db, capture, args.account, query, read))
                        print(replay_slowest(db, capture, args.account, query, results[query]))
                    print()
                if args.skip_purge:
                    figures["purge"] = {"skipped": "--skip-purge"}
                else:
                    warm()
                    figures["purge"] = purge_under_reads(args, db, client, workload)
        finally:
            revoke(db, app_key)
    finally:
        db.dispose()
    return figures


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Search benchmark: a large store, read latencies over HTTP, a purge."
    )
    parser.add_argument("--offers", type=int, default=1_000_000)
    parser.add_argument("--logs", type=int, default=5_000_000)
    parser.add_argument(
        "--interactions", type=int, help="default: --logs / 2 (at least one per offer)"
    )
    parser.add_argument("--account", default="bench")
    parser.add_argument(
        "--database-url",
        help="the store (default: a fresh SQLite file in a temp dir); the service migrates it",
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="start a throwaway PostgreSQL server (tests/support/postgres.py) and use it",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the offers already in --database-url instead of refusing to load over them",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temp dir (SQLite file, service log) and the PostgreSQL server running",
    )
    parser.add_argument("--requests", type=int, default=200, help="timed requests per query")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per query first")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print the statements and plans of every query (default: those over the target)",
    )
    parser.add_argument("--skip-purge", action="store_true", help="no purge phase")
    parser.add_argument(
        "--no-prewarm",
        dest="prewarm",
        action="store_false",
        help="do not read the store's files into the page cache before each series",
    )
    parser.add_argument("--chunk-rows", type=int, default=5000, help="purge chunk size")
    parser.add_argument(
        "--chunk-offers", type=int, default=10_000, help="offers per load transaction"
    )
    parser.add_argument(
        "--pg-load",
        choices=("copy", "executemany"),
        default="copy",
        help="how rows are written on PostgreSQL",
    )
    parser.add_argument("--seed", type=int, default=20240611)
    args = parser.parse_args(argv)
    if args.postgres and args.database_url:
        parser.error("give --postgres or --database-url, not both")
    if args.offers < 1 or args.logs < 1 or args.requests < 1 or args.warmup < 0:
        parser.error("--offers, --logs and --requests must be positive")
    if args.offers > 65535 * 1000:
        parser.error("--offers is too large")
    return args


def code_version() -> str:
    """The commit measured, and whether the working tree differed from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "sentoffers"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}+changes" if dirty else head


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="sentoffers-search-"))
    server = None
    keep = args.keep
    try:
        if args.postgres:
            from tests.support.postgres import PostgresServer

            server = PostgresServer().start()
            server.create_database(PG_DATABASE)
            database_url = server.url(PG_DATABASE)
            print(f"postgres: throwaway server on port {server.port}, data in {server.data_dir}")
        else:
            database_url = args.database_url or f"sqlite:///{workdir / 'search.db'}"
        print(f"store: {database_url}", flush=True)
        args.store_files = store_files(database_url, server)
        figures = run(args, database_url, workdir)
        figures.update(
            code=code_version(),
            offers_asked=args.offers,
            logs_asked=args.logs,
            requests_per_query=args.requests,
            prewarm=args.prewarm,
            cpu_cores=os.cpu_count(),
        )
        print(json.dumps(figures))
    finally:
        if keep:
            print(f"kept: {workdir}")
            if server is not None and server.started:
                atexit.unregister(server.stop)
                print(
                    f"kept: PostgreSQL at {server.url(PG_DATABASE)}; stop it with "
                    f"`runuser -u postgres -- pg_ctl stop -D {server.data_dir}` and remove "
                    f"{server.data_dir.parent if server.data_dir else ''}"
                )
        else:
            if server is not None:
                server.stop()
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
