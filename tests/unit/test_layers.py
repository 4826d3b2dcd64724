"""Each floor imports only the floors beneath it (docs/architecture.md): program < engine <
store < service < edges (api, cli, web, integrations); errors and settings are for everyone.

Read from the source, not from what an import pulls in at run time: every ``import accolade...``
and ``from accolade... import`` counts, at the top of a module, inside a function or under
``if TYPE_CHECKING:``, so a lazy import cannot hide a wrong turn.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
EDGES = frozenset({"api", "cli", "web", "integrations"})

# Modules any floor may import; they import no other part of Accolade themselves.
SHARED = frozenset({"accolade", "accolade.errors", "accolade.settings"})  # accolade: __version__

# The floors each floor may import, besides its own and SHARED.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "program": frozenset(),
    "engine": frozenset({"program"}),  # evaluates the compiled program
    # The store writes the engine's effects and member states as rows, and reads them back.
    "store": frozenset({"program", "engine"}),
    "service": frozenset({"program", "engine", "store"}),
    # Edges call services. They may name the program's and the engine's types and constants
    # (API schemas are the program's models, not copies), but reach the store only through
    # the doors below, and each other not at all, but for the doors below.
    "api": frozenset({"program", "engine", "service"}),
    "web": frozenset({"program", "engine", "service"}),
    "cli": frozenset({"program", "engine", "service", "sample_events"}),  # generate-events
    "integrations": frozenset({"program", "engine", "service"}),
    # A reproducible stream of partner-program events (generate-events, the benches).
    "sample_events": frozenset(),
}

# Single modules of a floor an edge may import though the floor is not in its MAY_IMPORT.
DOORS: dict[str, tuple[frozenset[str], str]] = {
    "accolade.store.unit_of_work": (
        EDGES,
        "the Store: an edge opens it once at start-up and hands it to every service call",
    ),
    "accolade.store.database": (
        EDGES,
        "engines and the schema-revision check, built at start-up (the API's app factory)",
    ),
    "accolade.api.app": (
        frozenset({"cli"}),
        "`accolade serve` and `accolade openapi` run the API's app factory",
    ),
    "accolade.web.portal": (
        frozenset({"api"}),
        "the API's app mounts the member portal's pages (`accolade serve` serves both)",
    ),
    "accolade.web.console": (
        frozenset({"api"}),
        "the API's app mounts the admin console's pages (`accolade serve` serves both)",
    ),
    "accolade.web.assess": (
        frozenset({"api"}),
        "the API's app mounts the hosted assessment's pages (`accolade serve` serves them)",
    ),
    "accolade.api.access": (
        frozenset({"web"}),
        "the pages run inside the API's app: its context (store, settings, clock, server "
        "secret) and the dependency that hands it to a request",
    ),
    "accolade.integrations.webhooks": (
        frozenset({"cli", "api"}),
        "`accolade worker` runs the webhook delivery loop; the API app's lifespan runs it in "
        "a thread (ACCOLADE_DELIVER_WEBHOOKS)",
    ),
    "accolade.integrations.hubspot": (
        frozenset({"cli"}),
        "`accolade crm sync` runs one round of the HubSpot connector",
    ),
    "accolade.integrations.salesforce": (
        frozenset({"cli"}),
        "`accolade crm sync` runs one round of the Salesforce connector",
    ),
}

# Today's imports that break the table, each to be removed by the work it names. The test
# fails on any violation not listed here, and on a listed one that no longer exists: delete
# its line when the move lands, so this list only shrinks.
TO_MOVE: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    importer: str  # module name, accolade.x.y
    imported: str  # the module it names, accolade.x.y (a package's submodule when it is one)
    path: Path
    line: int

    def __str__(self) -> str:
        where = f"{self.path.relative_to(SRC.parent)}:{self.line}"
        return (
            f"{where}: {self.importer} ({floor(self.importer)}) imports "
            f"{self.imported} ({floor(self.imported)})"
        )


def module_name(path: Path, root: Path = SRC) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def floor(module: str) -> str:
    """The floor a module lives on: its package under accolade, or "shared"."""
    if module in SHARED:
        return "shared"
    return module.split(".")[1]


def imports_in(
    source: str, module: str, *, is_package: bool, path: Path, exists: set[str]
) -> list[Import]:
    """Every import of an accolade module in ``source``, wherever it stands in the file.
    ``exists``: the modules there are, so ``from accolade.api import events`` names the
    submodule ``accolade.api.events`` and ``from accolade.api.app import create_app`` names
    ``accolade.api.app``."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            names = [
                f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in exists else origin
                for alias in node.names
            ]
        else:
            continue
        for name in dict.fromkeys(names):
            if name == "accolade" or name.startswith("accolade."):
                found.append(Import(module, name, path, node.lineno))
    return found


def allowed(importer: str, imported: str) -> bool:
    mine, theirs = floor(importer), floor(imported)
    if theirs in ("shared", mine):
        return True
    if mine == "shared":
        return False
    if theirs in MAY_IMPORT[mine]:
        return True
    door = next((d for d in DOORS if imported == d or imported.startswith(d + ".")), None)
    return door is not None and mine in DOORS[door][0]


def source_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / "accolade").rglob("*.py"))}


def all_imports() -> list[Import]:
    modules = source_modules()
    exists = set(modules)
    found: list[Import] = []
    for name, path in modules.items():
        source = path.read_text(encoding="utf-8")
        is_package = path.name == "__init__.py"
        found += imports_in(source, name, is_package=is_package, path=path, exists=exists)
    return found


def violations() -> list[Import]:
    return [i for i in all_imports() if not allowed(i.importer, i.imported)]


def test_every_module_is_on_a_floor_the_table_knows():
    unknown = sorted(
        f"{name} ({floor(name)})"
        for name in source_modules()
        if floor(name) != "shared" and floor(name) not in MAY_IMPORT
    )
    assert unknown == [], "add the new floor to MAY_IMPORT in tests/unit/test_layers.py"


def test_no_floor_imports_one_above_it():
    new = [str(v) for v in violations() if (v.importer, v.imported) not in TO_MOVE]
    assert new == [], (
        "a lower floor imports a higher one (docs/architecture.md says what goes where):\n"
        + "\n".join(new)
    )


def test_each_known_violation_is_still_there_until_it_moves():
    present = {(v.importer, v.imported) for v in violations()}
    gone = [f"{a} -> {b}" for a, b in TO_MOVE if (a, b) not in present]
    assert gone == [], "moved at last: delete these from TO_MOVE in tests/unit/test_layers.py"


def test_every_door_is_a_module_that_exists():
    modules = source_modules()
    assert [d for d in DOORS if d not in modules] == []


def test_shared_modules_import_no_other_part_of_accolade():
    leaks = [str(i) for i in all_imports() if floor(i.importer) == "shared"]
    assert leaks == []


SNIPPET = """
from __future__ import annotations
from typing import TYPE_CHECKING
import accolade.engine.state
from accolade.errors import InvalidEvent
from accolade.store import unit_of_work
from . import loader
from ..service import ingest
if TYPE_CHECKING:
    from accolade.api.app import create_app

def later():
    from accolade.cli import app
"""


@pytest.mark.parametrize(
    "named",
    [
        "accolade.engine.state",
        "accolade.errors",
        "accolade.store.unit_of_work",  # a submodule imported from its package
        "accolade.program.loader",  # relative, one level
        "accolade.service.ingest",  # relative, two levels
        "accolade.api.app",  # under TYPE_CHECKING
        "accolade.cli",  # inside a function
    ],
)
def test_the_reader_finds_every_kind_of_import(named: str):
    exists = {"accolade.store.unit_of_work", "accolade.program.loader", "accolade.service.ingest"}
    found = imports_in(
        SNIPPET, "accolade.program.compile", is_package=False, path=SRC, exists=exists
    )
    assert named in {i.imported for i in found}


def test_the_table_refuses_upward_imports_and_allows_downward_ones():
    assert not allowed("accolade.engine.points", "accolade.store.unit_of_work")
    assert not allowed("accolade.program.compile", "accolade.engine.bonus")
    assert not allowed("accolade.api.members", "accolade.store.repositories.members")
    assert not allowed("accolade.service.ingest", "accolade.api.errors")
    # The pages take an error's HTTP status from the error itself, not from the API's module.
    assert not allowed("accolade.web.console.analytics", "accolade.api.errors")
    assert allowed("accolade.cli.rewards", "accolade.store.unit_of_work")
    assert allowed("accolade.service.ingest", "accolade.engine.evaluate")
