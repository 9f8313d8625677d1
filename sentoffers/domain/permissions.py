"""Who may act on what is shared between accounts: keys, error codes, channels.

Reading and writing an account's own data is the tenancy check (a key holds the account;
a viewer never writes). These rules cover the rest, by role:

- ``platform``: the service operator's key. It holds no account, so it never reads or writes a
  seller's data; it changes the global error codes, changes channels, and creates and revokes
  any key. Only the command line or another platform key makes one.
- ``admin``: an account's administrator. It creates keys of any other role for the accounts it
  holds, revokes the keys whose accounts are all its own, and overrides an error code's
  solution for its own accounts. It never changes what other accounts see.
- ``connector`` and ``viewer``: none of the above (a connector creates channels, first come).

Each rule is a pure function answering yes or no; the routes and services turn a no into
``Forbidden``, or into ``NotFound`` where saying no would tell that something exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sentoffers.domain.model import Role

EVERY_ACCOUNT = "*"
"""In a key's accounts: every account (admin keys only)."""


class KeyHolder(Protocol):
    """Who acts, or the key acted on: a role and the accounts it holds."""

    @property
    def role(self) -> Role: ...

    @property
    def accounts(self) -> frozenset[str]: ...


@dataclass(frozen=True, slots=True)
class Access:
    """A key's role and accounts, without its credentials."""

    role: Role
    accounts: frozenset[str] = frozenset()


def holds_account(holder: KeyHolder, account: str) -> bool:
    """Whether ``holder`` may touch ``account``'s data (``*`` holds every account)."""
    return EVERY_ACCOUNT in holder.accounts or account in holder.accounts


def may_manage_keys(actor: KeyHolder) -> bool:
    """Admin and platform keys create and revoke keys; connectors and viewers do not."""
    return actor.role in (Role.ADMIN, Role.PLATFORM)


def may_grant_role(actor: KeyHolder, role: Role) -> bool:
    """A platform key grants every role; an admin every role but platform; others none."""
    if actor.role == Role.PLATFORM:
        return True
    return actor.role == Role.ADMIN and role != Role.PLATFORM


def accounts_beyond_grant(actor: KeyHolder, accounts: Iterable[str]) -> list[str]:
    """The ``accounts`` that ``actor`` may not put on a new key: those it does not hold.

    A platform key may grant any account (it makes the first admin of each seller); ``*`` is
    held only by a key that holds ``*``.
    """
    if actor.role == Role.PLATFORM:
        return []
    return [account for account in accounts if not holds_account(actor, account)]


def may_revoke_key(actor: KeyHolder, key: KeyHolder) -> bool:
    """A platform key revokes any key; an admin, the keys whose accounts are all its own.

    An admin never revokes a platform key, whatever accounts it holds (a platform key holds
    none, so "all its accounts are the admin's" would be true of it by default).
    """
    if actor.role == Role.PLATFORM:
        return True
    if actor.role != Role.ADMIN or key.role == Role.PLATFORM or not key.accounts:
        return False
    return all(holds_account(actor, account) for account in key.accounts)


def may_change_global_error_codes(actor: KeyHolder) -> bool:
    """Only a platform key creates, changes or deletes the error codes every account reads."""
    return actor.role == Role.PLATFORM


def may_override_error_code(actor: KeyHolder, account: str) -> bool:
    """An admin of ``account`` sets (or removes) that account's own solution for a code."""
    return actor.role == Role.ADMIN and holds_account(actor, account)


def may_create_channel(actor: KeyHolder, account: str) -> bool:
    """A connector or admin creates a channel while acting for one of its accounts.

    Channels are global and first come: the first to create ``vendor.channel`` names it; a
    second create is a conflict, never a change.
    """
    return actor.role in (Role.ADMIN, Role.CONNECTOR) and holds_account(actor, account)


def may_change_channel(actor: KeyHolder) -> bool:
    """Only a platform key changes a channel's name or logo, which every account shows."""
    return actor.role == Role.PLATFORM
