"""The permission rules, one test per rule: who may act on keys, error codes and channels."""

from __future__ import annotations

import pytest

from sentoffers.domain.model import Role
from sentoffers.domain.permissions import (
    Access,
    accounts_beyond_grant,
    holds_account,
    may_change_channel,
    may_change_global_error_codes,
    may_create_channel,
    may_grant_role,
    may_manage_keys,
    may_override_error_code,
    may_revoke_key,
)

PLATFORM = Access(Role.PLATFORM)
ADMIN_OF_ACME = Access(Role.ADMIN, frozenset({"acme"}))
ADMIN_OF_ALL = Access(Role.ADMIN, frozenset({"*"}))
ACCOUNT_ROLES = (Role.ADMIN, Role.CONNECTOR, Role.VIEWER)


def key(role: Role, *accounts: str) -> Access:
    return Access(role, frozenset(accounts))


# --- holding an account ------------------------------------------------------------------------


def test_a_key_holds_its_accounts_and_every_account_with_the_star() -> None:
    assert holds_account(ADMIN_OF_ACME, "acme")
    assert not holds_account(ADMIN_OF_ACME, "globex")
    assert holds_account(ADMIN_OF_ALL, "globex")


def test_a_platform_key_holds_no_account() -> None:
    assert not holds_account(PLATFORM, "acme")


# --- keys --------------------------------------------------------------------------------------


def test_only_admin_and_platform_keys_manage_keys() -> None:
    assert may_manage_keys(PLATFORM)
    assert may_manage_keys(ADMIN_OF_ACME)
    assert not may_manage_keys(key(Role.CONNECTOR, "acme"))
    assert not may_manage_keys(key(Role.VIEWER, "acme"))


def test_a_platform_key_grants_every_role() -> None:
    assert all(may_grant_role(PLATFORM, role) for role in Role)


def test_an_admin_grants_every_role_but_platform() -> None:
    for admin in (ADMIN_OF_ACME, ADMIN_OF_ALL):
        assert all(may_grant_role(admin, role) for role in ACCOUNT_ROLES)
        assert not may_grant_role(admin, Role.PLATFORM)


@pytest.mark.parametrize("role", [Role.CONNECTOR, Role.VIEWER])
def test_a_connector_or_viewer_grants_no_role(role: Role) -> None:
    assert not any(may_grant_role(key(role, "*"), granted) for granted in Role)


def test_an_admin_grants_only_the_accounts_it_holds() -> None:
    assert accounts_beyond_grant(ADMIN_OF_ACME, ["acme"]) == []
    assert accounts_beyond_grant(ADMIN_OF_ACME, ["acme", "globex", "*"]) == ["globex", "*"]


def test_an_admin_of_every_account_grants_any_account() -> None:
    assert accounts_beyond_grant(ADMIN_OF_ALL, ["acme", "globex", "*"]) == []


def test_a_platform_key_grants_any_account() -> None:
    assert accounts_beyond_grant(PLATFORM, ["acme", "globex", "*"]) == []


def test_a_platform_key_revokes_any_key() -> None:
    for target in (PLATFORM, ADMIN_OF_ALL, key(Role.CONNECTOR, "globex")):
        assert may_revoke_key(PLATFORM, target)


def test_an_admin_revokes_the_keys_whose_accounts_are_all_its_own() -> None:
    assert may_revoke_key(ADMIN_OF_ACME, key(Role.CONNECTOR, "acme"))
    assert may_revoke_key(ADMIN_OF_ACME, ADMIN_OF_ACME)
    assert may_revoke_key(key(Role.ADMIN, "acme", "globex"), key(Role.VIEWER, "acme", "globex"))


def test_an_admin_revokes_no_key_holding_an_account_it_does_not_hold() -> None:
    assert not may_revoke_key(ADMIN_OF_ACME, key(Role.CONNECTOR, "globex"))
    assert not may_revoke_key(ADMIN_OF_ACME, key(Role.CONNECTOR, "acme", "globex"))
    assert not may_revoke_key(ADMIN_OF_ACME, ADMIN_OF_ALL)


def test_an_admin_of_every_account_revokes_every_account_key() -> None:
    assert may_revoke_key(ADMIN_OF_ALL, key(Role.CONNECTOR, "globex"))
    assert may_revoke_key(ADMIN_OF_ALL, ADMIN_OF_ALL)


def test_an_admin_never_revokes_a_platform_key() -> None:
    assert not may_revoke_key(ADMIN_OF_ACME, PLATFORM)
    assert not may_revoke_key(ADMIN_OF_ALL, PLATFORM)


@pytest.mark.parametrize("role", [Role.CONNECTOR, Role.VIEWER])
def test_a_connector_or_viewer_revokes_no_key(role: Role) -> None:
    assert not may_revoke_key(key(role, "acme"), key(role, "acme"))


# --- error codes -------------------------------------------------------------------------------


def test_only_a_platform_key_changes_the_global_error_codes() -> None:
    assert may_change_global_error_codes(PLATFORM)
    for role in ACCOUNT_ROLES:
        assert not may_change_global_error_codes(key(role, "*"))


def test_an_admin_overrides_an_error_code_for_its_own_accounts_only() -> None:
    assert may_override_error_code(ADMIN_OF_ACME, "acme")
    assert not may_override_error_code(ADMIN_OF_ACME, "globex")
    assert may_override_error_code(ADMIN_OF_ALL, "globex")


def test_no_connector_viewer_or_platform_key_overrides_an_error_code() -> None:
    assert not may_override_error_code(key(Role.CONNECTOR, "acme"), "acme")
    assert not may_override_error_code(key(Role.VIEWER, "acme"), "acme")
    assert not may_override_error_code(PLATFORM, "acme")


# --- channels ----------------------------------------------------------------------------------


def test_a_connector_or_admin_creates_channels_for_its_own_accounts() -> None:
    assert may_create_channel(key(Role.CONNECTOR, "acme"), "acme")
    assert may_create_channel(ADMIN_OF_ACME, "acme")
    assert not may_create_channel(key(Role.CONNECTOR, "acme"), "globex")


def test_a_viewer_or_platform_key_creates_no_channel() -> None:
    assert not may_create_channel(key(Role.VIEWER, "acme"), "acme")
    assert not may_create_channel(PLATFORM, "acme")


def test_only_a_platform_key_changes_a_channel() -> None:
    assert may_change_channel(PLATFORM)
    for role in ACCOUNT_ROLES:
        assert not may_change_channel(key(role, "*"))
