"""The admin console's users on both databases: creating them (with their audit row), and
signing in, with lock-out after five failures in a row."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accolade.errors import Conflict, Forbidden, InvalidInput, Unauthenticated
from accolade.service.audit import list_audit
from accolade.service.console_users import (
    SIGN_IN_REFUSED,
    authenticate,
    create_user,
    list_users,
    may,
    require_role,
)
from accolade.store.unit_of_work import Store
from tests.integration.builders import NOW, clock_at, row_counts

PASSWORD = "correct horse battery"


def ana(store: Store, role: str = "admin") -> None:
    create_user(store, "Ana@Example.com", role, PASSWORD, "Ana", clock=clock_at(NOW))


def test_created_user_is_listed_with_a_lowercased_email(store):
    ana(store)
    [user] = list_users(store)
    assert (user.email, user.name, user.role, user.created_at) == (
        "ana@example.com",
        "Ana",
        "admin",
        NOW,
    )


def test_creating_a_user_writes_an_audit_row_without_the_password(store):
    ana(store)
    [entry] = list_audit(store).entries
    assert (entry.actor, entry.action, entry.program, entry.target, entry.at) == (
        "cli",
        "console_user.created",
        None,
        "ana@example.com",
        NOW,
    )
    assert entry.before is None
    assert entry.after == {"email": "ana@example.com", "name": "Ana", "role": "admin"}


def test_password_is_stored_hashed(store):
    ana(store)
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT password_hash FROM console_users").scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_second_user_with_the_same_email_is_a_conflict_and_stores_nothing(store):
    ana(store)
    before = row_counts(store)
    with pytest.raises(Conflict) as raised:
        create_user(store, "ana@example.COM", "viewer", PASSWORD)
    assert raised.value.field == "email"
    assert row_counts(store) == before


@pytest.mark.parametrize(
    ("email", "role", "password", "field"),
    [
        ("not-an-email", "admin", PASSWORD, "email"),
        ("ana@localhost", "admin", PASSWORD, "email"),
        ("ana@example.com", "owner", PASSWORD, "role"),
        ("ana@example.com", "admin", "11 chars..", "password"),
    ],
)
def test_bad_input_names_its_field_and_stores_nothing(store, email, role, password, field):
    before = row_counts(store)
    with pytest.raises(InvalidInput) as raised:
        create_user(store, email, role, password)
    assert raised.value.field == field
    assert row_counts(store) == before


def test_right_password_signs_in(store):
    ana(store)
    user = authenticate(store, " ANA@example.com", PASSWORD, clock_at(NOW))
    assert (user.email, user.role) == ("ana@example.com", "admin")


def test_wrong_password_and_unknown_email_are_refused_alike(store):
    ana(store)
    with pytest.raises(Unauthenticated) as wrong:
        authenticate(store, "ana@example.com", "not the password", clock_at(NOW))
    with pytest.raises(Unauthenticated) as unknown:
        authenticate(store, "bob@example.com", PASSWORD, clock_at(NOW))
    assert wrong.value.message == unknown.value.message == SIGN_IN_REFUSED


def fail(store: Store, times: int, at=NOW) -> None:
    for _ in range(times):
        with pytest.raises(Unauthenticated):
            authenticate(store, "ana@example.com", "not the password", clock_at(at))


def test_five_failures_lock_the_account_even_for_the_right_password(store):
    ana(store)
    fail(store, 5)
    with pytest.raises(Unauthenticated) as raised:
        authenticate(store, "ana@example.com", PASSWORD, clock_at(NOW + timedelta(minutes=14)))
    assert raised.value.message == SIGN_IN_REFUSED
    [user] = list_users(store)
    assert user.locked_until == NOW + timedelta(minutes=15)


def test_locked_account_opens_after_fifteen_minutes(store):
    ana(store)
    fail(store, 5)
    user = authenticate(store, "ana@example.com", PASSWORD, clock_at(NOW + timedelta(minutes=15)))
    assert user.email == "ana@example.com"
    assert list_users(store)[0].locked_until is None


def test_four_failures_do_not_lock_and_a_success_resets_the_count(store):
    ana(store)
    fail(store, 4)
    authenticate(store, "ana@example.com", PASSWORD, clock_at(NOW))
    fail(store, 4)
    authenticate(store, "ana@example.com", PASSWORD, clock_at(NOW))
    assert list_users(store)[0].locked_until is None


def test_failures_after_a_lock_ends_count_from_zero(store):
    ana(store)
    fail(store, 5)
    later = NOW + timedelta(minutes=20)
    fail(store, 1, at=later)
    assert list_users(store)[0].locked_until is None
    assert authenticate(store, "ana@example.com", PASSWORD, clock_at(later)).role == "admin"


def test_roles_rank_viewer_below_operator_below_admin(store):
    ana(store, role="operator")
    user = authenticate(store, "ana@example.com", PASSWORD, clock_at(NOW))
    require_role(user, "viewer")
    require_role(user, "operator")
    with pytest.raises(Forbidden):
        require_role(user, "admin")
    assert may("admin", "operator") and not may("viewer", "operator")


def test_audit_log_pages_newest_first(store):
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        create_user(store, email, "viewer", PASSWORD, clock=clock_at(NOW))
    first = list_audit(store, limit=2)
    assert [e.target for e in first.entries] == ["c@example.com", "b@example.com"]
    rest = list_audit(store, limit=2, before=first.next_before)
    assert ([e.target for e in rest.entries], rest.next_before) == (["a@example.com"], None)
