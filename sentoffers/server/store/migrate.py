"""Schema migrations with Alembic, run from code (``sentoffers db upgrade`` or at start).

A new migration starts with ``sentoffers db revision "what it does"``: the next number,
its file under ``migrations/versions/``, and with ``--autogenerate`` the operations that
bring a database at the latest schema to the tables of ``sentoffers.server.store.tables``.
Read and finish what it wrote: the stores' own search structures are left out, and a
migration that adds an index on a large table should say why (see 0006).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from alembic import command, op
from alembic.config import Config
from sqlalchemy import Engine, create_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
_NUMBERED = re.compile(r"^(\d{4})_")
# Search structures each store builds its own way (migration 0003), outside the metadata.
NOT_IN_METADATA = ("offers_search", "ix_offers_search_trgm")


def include_object(
    _obj: object, name: str | None, _type: str, _reflected: bool, _compare_to: object
) -> bool:
    """Autogenerate and schema checks leave the stores' own search structures alone."""
    return not (name or "").startswith(NOT_IN_METADATA)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database behind ``engine`` up to ``revision``."""
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database behind ``engine`` down to ``revision`` (``base``: empty)."""
    _run(engine, command.downgrade, revision)


def revision(message: str, *, autogenerate: bool = False) -> Path:
    """Write the next migration, numbered after the last, and return its file."""
    numbers = [int(m.group(1)) for f in VERSIONS_DIR.glob("*.py") if (m := _NUMBERED.match(f.name))]
    number = f"{max(numbers, default=0) + 1:04d}"
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40] or "migration"
    with tempfile.TemporaryDirectory() as scratch:
        # Autogenerate compares the tables with a database at the latest schema.
        engine = create_engine(f"sqlite:///{scratch}/head.db")
        try:
            upgrade(engine)
            config = alembic_config(engine.url.render_as_string(hide_password=False))
            config.set_main_option("file_template", f"{number}_{slug}")
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.revision(config, message, autogenerate=autogenerate, rev_id=number)
        finally:
            engine.dispose()
    return VERSIONS_DIR / f"{number}_{slug}.py"


def _run(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        step(config, revision)


def refresh_sqlite_statistics() -> None:
    """A SQLite store that has statistics (``ANALYZE`` was run on it) needs them for the new
    indexes too: without, the planner takes an index it knows nothing of for a good one
    (the offer list by last update went from 2 ms to 2 s on 1M offers)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    has_statistics = bind.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
    ).first()
    if has_statistics:
        op.execute("ANALYZE offers")
        op.execute("ANALYZE error_occurrences")
