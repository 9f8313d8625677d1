"""The secret that signs ``VtexIdclientAutCookie`` tokens and web UI sessions.

Set, it is ``SENTOFFERS_SECRET_KEY`` (the settings refuse the published development secret).
Unset, one is made on the first run and kept in ``secret_key`` in the data directory (beside
a SQLite store, else ``SENTOFFERS_DATA_DIR``), readable by its owner only, and read back on
later runs: tokens and sessions outlive a restart, and the worker processes of one server
agree. Under ``environment=test`` it is random and kept in memory only.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from sentoffers.server.settings import DEVELOPMENT_SECRET, Settings

__all__ = ["SECRET_FILE", "data_dir", "load_or_create_secret", "signing_secret", "with_secret"]

SECRET_FILE = "secret_key"
MIN_LENGTH = 32
# Another process may have created the file a moment ago and not written it yet.
_WRITE_WAIT_SECONDS = 2.0

logger = logging.getLogger(__name__)


def data_dir(settings: Settings) -> Path:
    """The directory of a file-backed SQLite store, else ``settings.data_dir``."""
    url = make_url(settings.database_url)
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file:")
    if url.get_backend_name() == "sqlite" and not in_memory:
        return Path(database).parent
    return Path(settings.data_dir)


def with_secret(settings: Settings) -> Settings:
    """``settings`` with its secret resolved: the configured one, else the data directory's."""
    if settings.secret_key:
        return settings
    if settings.environment == "test":
        secret = secrets.token_urlsafe(48)
    else:
        secret = load_or_create_secret(data_dir(settings) / SECRET_FILE)
    return settings.model_copy(update={"secret_key": secret})


def signing_secret(settings: Settings) -> str:
    """The secret of settings resolved by ``with_secret`` (as ``create_app`` does)."""
    if not settings.secret_key:
        raise RuntimeError("the secret is resolved when the app is built (with_secret)")
    return settings.secret_key


def load_or_create_secret(path: Path) -> str:
    """The secret kept at ``path``, made there first if there is none.

    Made with O_EXCL, so of processes starting together one writes it and the others read
    it; mode 0600.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process won the race: read its secret
        else:
            with os.fdopen(descriptor, "w", encoding="ascii") as file:
                file.write(secrets.token_urlsafe(48) + "\n")
                file.flush()
                os.fsync(file.fileno())
            logger.info("made a new secret key in %s", path)
    return _read(path)


def _read(path: Path) -> str:
    secret = path.read_text(encoding="utf-8").strip()
    # Empty and new: its maker is still writing it. Empty and old: a maker died there.
    while not secret and time.time() - path.stat().st_mtime < _WRITE_WAIT_SECONDS:
        time.sleep(0.05)
        secret = path.read_text(encoding="utf-8").strip()
    if len(secret) < MIN_LENGTH or secret == DEVELOPMENT_SECRET:
        raise RuntimeError(
            f"the secret key in {path} is empty, too short (under {MIN_LENGTH} characters) "
            "or the published development secret: delete the file to have a new one made, "
            "or set SENTOFFERS_SECRET_KEY"
        )
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        logger.warning(
            "the secret key in %s can be read by other users: `chmod 600 %s`", path, path
        )
    return secret
