"""The admin console's users: creating them, listing them, signing them in (with lock-out
after repeated failures) and what each role may do.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second recommended
set); only the hash is stored. A sign-in that fails never says whether the email exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from accolade.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from accolade.service import Clock, once_more_on_conflict, system_clock
from accolade.service.audit import CLI_ACTOR, record
from accolade.store.unit_of_work import Store

ROLES = ("viewer", "operator", "admin")  # each may do all the one before it may
ROLE_RIGHTS = {
    "viewer": "reads every page",
    "operator": "also approves redemptions, reverses events and adjusts points",
    "admin": "also publishes and rolls back programs, manages keys, webhooks and users",
}
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # hashing is costly by design: a megabyte password is not a password
LOCK_AFTER = 5  # consecutive failed sign-ins
LOCK_FOR = timedelta(minutes=15)
SIGN_IN_REFUSED = (
    "wrong email or password, or the account is locked after too many failed sign-ins "
    f"(it opens again {LOCK_FOR.seconds // 60} minutes after the last of them)"
)

# One '@', something before it, a dotted domain after it, no spaces: enough to catch a typo;
# whether the address reaches someone is not the console's to know.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


@dataclass(frozen=True)
class ConsoleUser:
    email: str
    name: str
    role: str
    created_at: datetime
    locked_until: datetime | None
    disabled_at: datetime | None


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _unknown_user_hash() -> str:
    """A hash to check a password against when the email is unknown, so that a sign-in takes
    as long whether or not the email exists."""
    return _hasher().hash("no console user has this password")


def check_email(email: str) -> str:
    """``email``, trimmed and lowercased; InvalidInput (field ``email``) if it is not one."""
    email = email.strip().lower()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise InvalidInput(f"'{email}' is not an email address", field="email")
    return email


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"unknown role '{role}' (known: {', '.join(ROLES)})", field="role")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"must be at least {MIN_PASSWORD} characters", field="password")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"must be at most {MAX_PASSWORD} characters", field="password")
    return password


def may(role: str, needed: str) -> bool:
    """Whether ``role`` may do what ``needed`` may (viewer < operator < admin)."""
    return ROLES.index(check_role(role)) >= ROLES.index(check_role(needed))


def require_role(user: ConsoleUser, needed: str) -> None:
    """Forbidden unless ``user``'s role may do what ``needed`` may."""
    if not may(user.role, needed):
        raise Forbidden(f"this needs the {needed} role; {user.email} is {user.role}", "role")


def create_user(
    store: Store,
    email: str,
    role: str,
    password: str,
    name: str = "",
    *,
    actor: str = CLI_ACTOR,
    clock: Clock = system_clock,
) -> ConsoleUser:
    """A new console user, recorded in the audit log in the same transaction; Conflict if
    the email has a user already."""
    email = check_email(email)
    role = check_role(role)
    password_hash = _hasher().hash(check_password(password))
    name = name.strip() or email
    if len(name) > 200:
        raise InvalidInput("must be at most 200 characters", field="name")

    def run() -> ConsoleUser:
        now = clock()
        with store.transaction() as uow:
            if uow.console.user(email) is not None:
                raise Conflict(f"{email} has a console user already", field="email")
            uow.console.add_user(email, name, role, password_hash, now)
            user = ConsoleUser(email, name, role, now, None, None)
            record(uow, actor, "console_user.created", None, email, None, _audited(user), at=now)
        return user

    return once_more_on_conflict(run)


def list_users(store: Store) -> list[ConsoleUser]:
    """Every console user, by email."""
    with store.read() as uow:
        return [_user(r) for r in uow.console.users()]


def user(store: Store, email: str) -> ConsoleUser:
    """The console user of ``email``; NotFound (field ``email``) when there is none."""
    with store.read() as uow:
        row = uow.console.user(email.strip().lower())
    if row is None:
        raise NotFound(f"no console user '{email}'", field="email")
    return _user(row)


def signed_in_user(store: Store, email: str) -> ConsoleUser:
    """The user a console session names, as they are now; Unauthenticated when they are gone
    or disabled (their sessions end at once)."""
    with store.read() as uow:
        row = uow.console.user(email)
    if row is None or row.disabled_at is not None:
        raise Unauthenticated("this console account is disabled: sign in again", "session")
    return _user(row)


def change_role(
    store: Store, email: str, role: str, *, actor: str, clock: Clock = system_clock
) -> ConsoleUser:
    """``email``'s user with ``role``, recorded in the audit log; a user may not change
    their own role (an admin cannot leave the console without one by mistake)."""
    role = check_role(role)
    email = email.strip().lower()
    _not_oneself(email, actor, "change your own role")

    def run() -> ConsoleUser:
        now = clock()
        with store.transaction() as uow:
            row = uow.console.user(email, lock=True)
            if row is None:
                raise NotFound(f"no console user '{email}'", field="email")
            before = _user(row)
            after = ConsoleUser(
                before.email,
                before.name,
                role,
                before.created_at,
                before.locked_until,
                before.disabled_at,
            )
            if role != before.role:
                uow.console.set_role(row.id, role)
                record(
                    uow, actor, "console_user.role_changed", None, email,
                    _audited(before), _audited(after), at=now,
                )  # fmt: skip
        return after

    return once_more_on_conflict(run)


def set_disabled(
    store: Store, email: str, disabled: bool, *, actor: str, clock: Clock = system_clock
) -> ConsoleUser:
    """Disable ``email``'s user (their sessions end, they cannot sign in) or enable them
    again, recorded in the audit log; a user may not disable themselves."""
    email = email.strip().lower()
    if disabled:
        _not_oneself(email, actor, "disable your own account")

    def run() -> ConsoleUser:
        now = clock()
        with store.transaction() as uow:
            row = uow.console.user(email, lock=True)
            if row is None:
                raise NotFound(f"no console user '{email}'", field="email")
            before = _user(row)
            if (before.disabled_at is not None) == disabled:
                return before
            at = now if disabled else None
            uow.console.set_disabled(row.id, at)
            after = ConsoleUser(before.email, before.name, before.role, before.created_at, None, at)
            action = "console_user.disabled" if disabled else "console_user.enabled"
            record(
                uow, actor, action, None, email,
                _audited_access(before), _audited_access(after), at=now,
            )  # fmt: skip
        return after

    return once_more_on_conflict(run)


def _not_oneself(email: str, actor: str, what: str) -> None:
    if email == actor.strip().lower():
        raise Forbidden(f"you cannot {what}: ask another admin", field="email")


def authenticate(
    store: Store, email: str, password: str, clock: Clock = system_clock
) -> ConsoleUser:
    """The user with this email and password; Unauthenticated otherwise, with the same
    message whether the email is unknown, the password wrong, the account locked or disabled.

    Each failure is counted; the fifth in a row locks the account for ``LOCK_FOR``, during
    which even the right password is refused (and failures are not counted: the lock does
    not grow). A success resets the count."""
    email = email.strip().lower()
    with store.transaction() as uow:
        now = clock()
        row = uow.console.user(email, lock=True)
        if row is None:
            _verify(_unknown_user_hash(), password)  # the time a known email would take
            raise Unauthenticated(SIGN_IN_REFUSED, field="email")
        if row.locked_until is not None and now < row.locked_until:
            raise Unauthenticated(SIGN_IN_REFUSED, field="email")
        failed = 0 if row.locked_until is not None else row.failed_attempts  # a lock ended
        right = _verify(row.password_hash, password) and row.disabled_at is None
        if right:
            uow.console.set_sign_in_state(row.id, 0, None)
        else:
            failed += 1
            lock = now + LOCK_FOR if failed >= LOCK_AFTER else None
            uow.console.set_sign_in_state(row.id, failed, lock)
    # outside the transaction: a refused sign-in's count is committed, not rolled back
    if not right:
        raise Unauthenticated(SIGN_IN_REFUSED, field="email")
    return ConsoleUser(row.email, row.name, row.role, row.created_at, None, None)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password[: MAX_PASSWORD + 1])
    except (VerificationError, InvalidHashError):
        return False


def _user(row: Any) -> ConsoleUser:  # Any: a console_users row
    return ConsoleUser(
        row.email, row.name, row.role, row.created_at, row.locked_until, row.disabled_at
    )


def _audited(user: ConsoleUser) -> dict[str, str]:
    """What the audit log keeps of a user: never the password or its hash."""
    return {"email": user.email, "name": user.name, "role": user.role}


def _audited_access(user: ConsoleUser) -> dict[str, Any]:
    """What the audit log keeps of a user disabled or enabled: whether they were."""
    return {**_audited(user), "disabled": user.disabled_at is not None}
