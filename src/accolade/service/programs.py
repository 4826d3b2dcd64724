"""Publish, roll back, list and compare program versions, each activation with its release
record; resolve the compiled program for a version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Row

from accolade.engine.facets import facet_names
from accolade.errors import Conflict, FieldError, InvalidInput, NotFound
from accolade.program.analytics import firsts_types
from accolade.program.assessment_checks import assessment_warnings
from accolade.program.compile import compile_program
from accolade.program.compiled import CompiledProgram
from accolade.program.diff import Change, diff_programs
from accolade.program.loader import load_program, program_hash
from accolade.program.models import Program
from accolade.service import (
    Clock,
    audit,  # a module: audit reads programs (program_row) too
    system_clock,
)
from accolade.service.connectors import subscribe_connectors
from accolade.store.unit_of_work import Store, UnitOfWork


@dataclass(frozen=True)
class Published:
    program: str
    version: int
    hash: str
    new: bool  # False when identical content was already a version (it is made active)
    reactivated: bool = False  # that earlier version was not the active one


NOTES_MAX = 2000  # characters of a release's notes
APPROVER_MAX = 200  # characters of who approved it (program_activations.approved_by)


@dataclass(frozen=True)
class VersionInfo:
    version: int
    hash: str
    created_at: datetime
    active: bool
    # the version's latest release record: when it was made active, how (publish or rollback),
    # the notes and who approved it; all None for a draft never made active
    released_at: datetime | None = None
    action: str | None = None
    notes: str | None = None
    approved_by: str | None = None


@dataclass(frozen=True)
class ProgramDiff:
    """The rule changes from one version to another version or a draft file."""

    program: str
    from_version: int
    to_version: int | None  # None: a draft file, not stored
    changes: list[Change]


@dataclass(frozen=True)
class ActiveProgram:
    id: int
    compiled: CompiledProgram


def validate(source: str) -> Program:
    """Raises InvalidProgram listing every error; stores nothing."""
    return load_program(source)


def warnings(program: Program) -> list[FieldError]:
    """What does not make a valid program invalid but should change (the data value rule of
    assessments: a question that feeds nothing)."""
    return assessment_warnings(program)


def publish(
    store: Store,
    source: str,
    clock: Clock = system_clock,
    *,
    notes: str | None = None,
    approved_by: str | None = None,
    require_simulation: bool = False,
    actor: str | None = None,
) -> Published:
    """Store ``source`` as a new version and make it active, with its release record (notes,
    approver). With ``require_simulation`` a version never active before is refused unless its
    content was simulated (ACCOLADE_PUBLISH_REQUIRES_SIMULATION). With ``actor`` (who did it),
    the release is written to the audit log in the same transaction."""
    notes, approved_by = release_record(notes, approved_by)
    program = load_program(source)
    digest = program_hash(program)
    now = clock()
    with store.transaction() as uow:
        row = uow.programs.lock_program(program.key)
        if row is None:
            uow.programs.create_program(program.key, program.name, now)
            row = uow.programs.lock_program(program.key)
            assert row is not None
        existing = uow.programs.version_by_hash(row.id, digest)
        if existing is not None:
            reactivated = row.active_version != existing.version
            if reactivated:
                if require_simulation:
                    _guard_simulated(uow, row, existing.version, digest)
                new = compiled_version(uow, row.id, existing.version)
                _guard_state(uow, row, new, now)
                _refresh_firsts(uow, row, new)
                _refresh_facets(uow, row, new)
                subscribe_connectors(uow, row.id, new.definition, now)
                uow.programs.activate(row.id, existing.version, "publish", now, notes, approved_by)
                _audit_release(
                    uow, actor, row, existing.version, "publish", notes, approved_by, now
                )
            return Published(
                program.key, existing.version, digest, new=False, reactivated=reactivated
            )
        if require_simulation:
            _guard_simulated(uow, row, None, digest)
        version = max((v.version for v in uow.programs.versions(row.id)), default=0) + 1
        new = compile_program(program, version, digest)  # parsed once, above
        _guard_state(uow, row, new, now)
        _refresh_firsts(uow, row, new)
        _refresh_facets(uow, row, new)
        subscribe_connectors(uow, row.id, new.definition, now)
        uow.programs.add_version(row.id, version, digest, source, now)
        uow.programs.activate(row.id, version, "publish", now, notes, approved_by)
        _audit_release(uow, actor, row, version, "publish", notes, approved_by, now)
        return Published(program.key, version, digest, new=True)


def add_draft(
    store: Store,
    key: str,
    source: str,
    clock: Clock = system_clock,
    *,
    actor: str | None = None,
) -> tuple[int, bool]:
    """Store ``source`` as a version of program ``key`` without making it active (an upload
    through the API, a draft saved in the console); identical content returns the existing
    version. (version, new). With ``actor``, a new version is written to the audit log in the
    same transaction."""
    program = load_program(source)
    if program.key != key:
        raise InvalidInput(f"this file is program '{program.key}', not '{key}'", field="key")
    digest = program_hash(program)
    with store.transaction() as uow:
        row = uow.programs.lock_program(key)
        if row is None:
            raise NotFound(f"no program '{key}'", field="program")
        existing = uow.programs.version_by_hash(row.id, digest)
        if existing is not None:
            return int(existing.version), False
        version = max((v.version for v in uow.programs.versions(row.id)), default=0) + 1
        now = clock()
        uow.programs.add_version(row.id, version, digest, source, now)
        if actor is not None:
            after = {"version": version, "hash": digest}
            audit.record(uow, actor, "program.draft_saved", row.id, key, None, after, at=now)
        return version, True


def publish_version(
    store: Store,
    key: str,
    version: int,
    clock: Clock = system_clock,
    *,
    notes: str | None = None,
    approved_by: str | None = None,
    require_simulation: bool = False,
    actor: str | None = None,
) -> None:
    """Make stored version ``version`` the active one, with its release record; see
    ``publish`` for ``require_simulation`` and ``actor``."""
    notes, approved_by = release_record(notes, approved_by)
    with store.transaction() as uow:
        row = uow.programs.lock_program(key)
        if row is None:
            raise NotFound(f"no program '{key}'", field="program")
        stored = uow.programs.version(row.id, version)
        if stored is None:
            raise NotFound(f"program '{key}' has no version {version}", field="version")
        if row.active_version == version:
            raise Conflict(f"version {version} of '{key}' is already active", field="version")
        if require_simulation:
            _guard_simulated(uow, row, version, stored.hash)
        now = clock()
        new = compiled_version(uow, row.id, version)
        _guard_state(uow, row, new, now)
        _refresh_firsts(uow, row, new)
        _refresh_facets(uow, row, new)
        subscribe_connectors(uow, row.id, new.definition, now)
        uow.programs.activate(row.id, version, "publish", now, notes, approved_by)
        _audit_release(uow, actor, row, version, "publish", notes, approved_by, now)


def _audit_release(
    uow: UnitOfWork,
    actor: str | None,
    row: Any,
    version: int,
    how: str,
    notes: str | None,
    approved_by: str | None,
    now: datetime,
) -> None:
    """The audit row of a release (``row`` as it was before it: its active version), when
    someone is named to have made it."""
    if actor is None:
        return
    action = "program.published" if how == "publish" else "program.rolled_back"
    before = {"version": row.active_version}
    after = {"version": version, "notes": notes, "approved_by": approved_by}
    audit.record(uow, actor, action, row.id, row.key, before, after, at=now)


def release_record(notes: str | None, approved_by: str | None) -> tuple[str | None, str | None]:
    """A release's notes and approver as stored (blank notes are none); InvalidInput naming
    the field when one is too long or the approver is blank."""
    if notes is not None and len(notes) > NOTES_MAX:
        raise InvalidInput(
            f"notes are {len(notes):,} characters long, at most {NOTES_MAX:,} fit", field="notes"
        )
    if approved_by is not None:
        approved_by = approved_by.strip()
        if not approved_by:
            raise InvalidInput(
                "name who approved the release, or leave it out", field="approved_by"
            )
        if len(approved_by) > APPROVER_MAX:
            raise InvalidInput(
                f"at most {APPROVER_MAX} characters ({len(approved_by):,} given)",
                field="approved_by",
            )
    return (notes if notes and notes.strip() else None), approved_by


class NotSimulated(Conflict):
    """A version made active for the first time whose content was never simulated, when
    publishing requires it; ``what`` names the version (or the file), ``program`` its key."""

    def __init__(self, what: str, program: str) -> None:
        super().__init__(
            f"{what} of '{program}' was never simulated, and publishing requires it: run "
            "`accolade program simulate FILE` first",
            field="version",
        )
        self.what = what
        self.program = program


def _guard_simulated(uow: UnitOfWork, row: Any, version: int | None, digest: str) -> None:
    """Refuse to make a version active for the first time when its content was never
    simulated. A program's first version has no log to simulate over; a version active
    before was live already."""
    if row.active_version is None:
        return
    if version is not None and any(a.version == version for a in uow.programs.activations(row.id)):
        return
    if uow.programs.simulated(row.id, digest):
        return
    what = f"version {version}" if version is not None else f"this program file ({digest[:12]})"
    raise NotSimulated(what, row.key)


def version_source(store: Store, key: str, version: int | None = None) -> tuple[VersionInfo, str]:
    """A version (the active one by default) and its YAML source."""
    with store.read() as uow:
        row = program_row(uow, key)
        number = version if version is not None else row.active_version
        found = uow.programs.version(row.id, number) if number is not None else None
        if found is None:
            what = f"no version {number}" if number is not None else "no active version"
            raise NotFound(f"program '{key}' has {what}", field="version")
        info = _version_infos(uow, row, [found])[0]
        return info, str(found.source)


def rollback(
    store: Store,
    key: str,
    to: int | None = None,
    clock: Clock = system_clock,
    *,
    notes: str | None = None,
    approved_by: str | None = None,
    require_simulation: bool = False,
    actor: str | None = None,
) -> int:
    """Make an earlier version active again (by default the one active before this one), with
    its release record. ``require_simulation`` refuses a stored draft that was never active
    nor simulated, as ``publish`` does; ``actor`` as in ``publish``."""
    notes, approved_by = release_record(notes, approved_by)
    with store.transaction() as uow:
        row = uow.programs.lock_program(key)
        if row is None:
            raise NotFound(f"no program '{key}'", field="program")
        if to is None:
            history = [a.version for a in uow.programs.activations(row.id)]
            earlier = [v for v in history if v != row.active_version]
            if not earlier:
                raise Conflict(
                    f"program '{key}' has no earlier version to roll back to", field="version"
                )
            to = earlier[-1]
        target = uow.programs.version(row.id, to)
        if target is None:
            raise NotFound(f"program '{key}' has no version {to}", field="version")
        if to == row.active_version:
            raise Conflict(f"version {to} of '{key}' is already active", field="version")
        if require_simulation:
            _guard_simulated(uow, row, to, target.hash)
        now = clock()
        new = compiled_version(uow, row.id, to)
        _guard_state(uow, row, new, now)
        _refresh_firsts(uow, row, new)
        _refresh_facets(uow, row, new)
        subscribe_connectors(uow, row.id, new.definition, now)
        uow.programs.activate(row.id, to, "rollback", now, notes, approved_by)
        _audit_release(uow, actor, row, to, "rollback", notes, approved_by, now)
        return to


def _refresh_facets(uow: UnitOfWork, row: Any, new: CompiledProgram) -> None:
    """Rebuild the facet index when the version to activate indexes other attributes."""
    old = compiled_version(uow, row.id, row.active_version) if row.active_version else None
    names, default_tier = facet_names(new)
    if facet_names(old) == (names, default_tier):
        return
    # ingests that started under the old version either end before the rebuild (the lock
    # waits for them) or find the new version when they end (service.ingest)
    uow.members.lock_members_table()
    if names:
        uow.facets.rebuild_facets(row.id, names, default_tier)
    else:
        uow.facets.clear_facets(row.id)


def _refresh_firsts(uow: UnitOfWork, row: Any, new: CompiledProgram) -> None:
    """Fill the firsts rollup with the types the version to activate reads and the active one
    did not keep (store/repositories/firsts.py); before _refresh_facets, whose lock is weaker."""
    if row.active_version is None:
        return  # nothing was logged under no version
    old = compiled_version(uow, row.id, row.active_version)
    uow.log.firsts.cover(row.id, kept_firsts(new), kept_firsts(old))


def kept_firsts(compiled: CompiledProgram) -> frozenset[str] | None:
    """The event types whose firsts the version's analytics read (None: every type), which
    ingest keeps in the firsts rollup."""
    found = _kept_firsts.get((compiled.hash, compiled.version))
    if found is None:
        program = compiled.definition
        event_types = {a.key: a.event_type for a in program.actions}
        found = (firsts_types(program.analytics, event_types),)
        _kept_firsts[(compiled.hash, compiled.version)] = found
    return found[0]


# (hash, version) -> the types, as _compiled_by_hash keeps the compiled versions
_kept_firsts: dict[tuple[str, int], tuple[frozenset[str] | None]] = {}


def _guard_state(uow: UnitOfWork, row: Any, new: CompiledProgram, now: datetime) -> None:
    """Refuse a version that would lose or garble state kept under a key, or whose experiment
    cohorts name members the program does not know."""
    _guard_leaderboards(uow, row, new)
    _guard_cohorts(uow, row, new)
    _guard_challenge_windows(uow, row, new, now)


def _guard_challenge_windows(
    uow: UnitOfWork, row: Any, new: CompiledProgram, now: datetime
) -> None:
    """Refuse a version that would lose challenge state: a challenge key names one window
    (members' progress and the close are kept by key), and a first/top challenge that has ended
    is paid by its close, which needs it in the active version."""
    if row.active_version is None:
        return
    current = compiled_version(uow, row.id, row.active_version).challenges
    closed = uow.programs.challenge_closes(row.id)
    for key, challenge in current.items():
        replacement = new.challenges.get(key)
        if replacement is not None and (replacement.starts, replacement.ends) != (
            challenge.starts,
            challenge.ends,
        ):
            raise Conflict(
                f"challenge '{key}' would change its window: a challenge key names one window "
                "(progress and winners are kept by it); give the new window a new key",
                field="challenges",
            )
        ended = challenge.ends <= now.timestamp()
        paid_at_close = challenge.first is not None or challenge.top is not None
        if replacement is None and ended and paid_at_close and key not in closed:
            raise Conflict(
                f"challenge '{key}' has ended and its winners are not paid yet: run "
                "`accolade challenges close` before publishing a version without it",
                field="challenges",
            )


def _guard_cohorts(uow: UnitOfWork, row: Any, new: CompiledProgram) -> None:
    """InvalidInput naming ``experiments[i].cohort[j]`` for a cohort member the program has
    never seen: a typo there would silently put someone in the wrong arm."""
    for i, experiment in enumerate(new.definition.experiments):
        if not experiment.cohort:
            continue
        known = uow.experiments.known_members(row.id, experiment.cohort)
        for j, member in enumerate(experiment.cohort):
            if member not in known:
                raise InvalidInput(
                    f"no member '{member}' in program '{new.key}': a cohort lists members the "
                    "program already knows",
                    field=f"experiments[{i}].cohort[{j}]",
                )


# What a leaderboard's stored scores depend on; the rest (name, minimum, prize) may change.
_BOARD_FREE = {"name", "description", "min_score", "reward"}


def _guard_leaderboards(uow: UnitOfWork, row: Any, new: CompiledProgram) -> None:
    """Refuse a version that changes what an existing board's scores mean: its key names them."""
    if row.active_version is None:
        return
    current = compiled_version(uow, row.id, row.active_version).definition.leaderboards
    replacements = {b.key: b for b in new.definition.leaderboards}
    for board in current:
        replacement = replacements.get(board.key)
        if replacement is None:
            continue
        old = board.model_dump(exclude=_BOARD_FREE)
        changed = sorted(
            k for k, v in replacement.model_dump(exclude=_BOARD_FREE).items() if old[k] != v
        )
        if changed:
            raise Conflict(
                f"leaderboard '{board.key}' would change its {', '.join(changed)}: its key names "
                "the scores kept so far; give the new board a new key",
                field="leaderboards",
            )


def versions(store: Store, key: str) -> list[VersionInfo]:
    """Every version, oldest first, each with its latest release record."""
    with store.read() as uow:
        row = program_row(uow, key)
        return _version_infos(uow, row, uow.programs.versions(row.id))


def _version_infos(uow: UnitOfWork, program: Any, rows: list[Row[Any]]) -> list[VersionInfo]:
    latest = {a.version: a for a in uow.programs.activations(program.id)}  # oldest first
    out = []
    for v in rows:
        release = latest.get(v.version)
        out.append(
            VersionInfo(
                v.version,
                v.hash,
                v.created_at,
                v.version == program.active_version,
                released_at=release.at if release else None,
                action=release.action if release else None,
                notes=release.notes if release else None,
                approved_by=release.approved_by if release else None,
            )
        )
    return out


def diff(
    store: Store,
    key: str,
    before: int | None,
    after: int | None = None,
    draft: str | None = None,
) -> ProgramDiff:
    """The rule changes from stored version ``before`` (the active one when None) to stored
    version ``after`` or to the program file ``draft`` (exactly one of the two)."""
    if (after is None) == (draft is None):
        raise InvalidInput("compare with a second version or a draft file", field="to")
    drafted = load_program(draft) if draft is not None else None  # InvalidProgram first
    with store.read() as uow:
        row = program_row(uow, key)
        before = before if before is not None else row.active_version
        if before is None:
            raise NotFound(f"program '{key}' has no active version", field="version")
        old = _stored_program(uow, row, before)
        new = drafted if drafted is not None else _stored_program(uow, row, after)
    return ProgramDiff(key, before, after, diff_programs(old, new))


def _stored_program(uow: UnitOfWork, program: Any, version: int | None) -> Program:
    found = uow.programs.version(program.id, version) if version is not None else None
    if found is None:
        raise NotFound(f"program '{program.key}' has no version {version}", field="version")
    return load_program(str(found.source))


def program_keys(store: Store) -> list[str]:
    """The keys of every program in the database, in order."""
    with store.read() as uow:
        return uow.programs.program_keys()


def resolve_key(store: Store, key: str | None) -> str:
    """The program to work on: the one named, or the only one in the database."""
    if key:
        return key
    with store.read() as uow:
        keys = uow.programs.program_keys()
    if not keys:
        raise NotFound(
            "no program published yet: run `accolade init` or `accolade program publish FILE`",
            field="program",
        )
    if len(keys) > 1:
        raise InvalidInput(
            f"several programs ({', '.join(keys)}): choose one with --program", field="program"
        )
    return keys[0]


def active(uow: UnitOfWork, key: str) -> ActiveProgram:
    """The program's active version, compiled; one small query when it was compiled before
    (versions are immutable: their hash names them)."""
    return _compiled_active(uow, key, uow.programs.active_version(key))


def active_with_member(uow: UnitOfWork, key: str, member: str) -> tuple[ActiveProgram, Any]:
    """The active program and ``member``'s row (columns ``member_<name>``, all None when
    there is no such member) in the same query."""
    found = uow.programs.active_version(key, member)
    return _compiled_active(uow, key, found), found


def _compiled_active(uow: UnitOfWork, key: str, found: Any) -> ActiveProgram:
    if found is None:
        program_row(uow, key)  # raises NotFound, listing the known programs
    assert found is not None
    if found.active_version is None:
        raise NotFound(f"program '{key}' has no active version", field="program")
    compiled = _compiled_by_hash.get((found.hash, found.active_version))
    if compiled is None:
        compiled = compiled_version(uow, found.id, found.active_version)
        _compiled_by_hash[(found.hash, found.active_version)] = compiled
    return ActiveProgram(found.id, compiled)


# (hash, version) -> compiled program: the same content at the same number compiles alike.
_compiled_by_hash: dict[tuple[str, int], CompiledProgram] = {}


def compiled_version(uow: UnitOfWork, program_id: int, version: int) -> CompiledProgram:
    row = uow.programs.version(program_id, version)
    if row is None:
        raise NotFound(f"version {version} does not exist", field="version")
    return _compile(row.source, version, row.hash)


@lru_cache(maxsize=128)
def _compile(source: str, version: int, digest: str) -> CompiledProgram:
    return compile_program(load_program(source), version, digest)


def program_row(uow: UnitOfWork, key: str) -> Row[Any]:
    """Program ``key``; NotFound (field ``program``) naming the known programs otherwise."""
    row = uow.programs.program_by_key(key)
    if row is None:
        known = uow.programs.program_keys()
        hint = f" (known: {', '.join(known)})" if known else ""
        raise NotFound(f"no program '{key}'{hint}", field="program")
    return row
