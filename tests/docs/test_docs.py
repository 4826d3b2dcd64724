"""The docs keep up with the code: every CLI command, option, setting and program key."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest
import typer.main
import yaml
from pydantic import BaseModel

from accolade import cli
from accolade.program import analytics as program_analytics
from accolade.program import assessments as program_assessments
from accolade.program import experiments as program_experiments
from accolade.program import integrations as program_integrations
from accolade.program import models
from accolade.program import recommendations as program_recommendations
from accolade.program.loader import load_program, load_program_file
from accolade.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CLI_DOC = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
PROGRAM_DOC = (ROOT / "docs" / "program.md").read_text(encoding="utf-8")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")


def sections(markdown: str) -> dict[str, str]:
    """Heading text (without backticks) -> its text up to the next heading of the same or a
    higher level; code blocks are skipped when looking for headings."""
    lines = markdown.splitlines()
    headings: list[tuple[int, int, str]] = []
    in_code = False
    for number, line in enumerate(lines):
        if line.startswith("```"):
            in_code = not in_code
        match = None if in_code else HEADING.match(line)
        if match:
            headings.append((number, len(match.group(1)), match.group(2).replace("`", "")))
    out: dict[str, str] = {}
    for i, (start, level, title) in enumerate(headings):
        end = next((n for n, lv, _ in headings[i + 1 :] if lv <= level), len(lines))
        out[title] = "\n".join(lines[start + 1 : end])
    return out


def commands(command, path=("accolade",)):
    """(path, click command) for the root command, every group and every subcommand."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from commands(sub, (*path, name))


COMMANDS = list(commands(typer.main.get_command(cli.app)))
CLI_SECTIONS = sections(CLI_DOC)


def test_every_command_was_found():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"accolade init", "accolade program validate", "accolade member show"} <= names


@pytest.mark.parametrize("path", [" ".join(p) for p, _ in COMMANDS])
def test_command_has_a_section_in_cli_docs(path):
    assert path in CLI_SECTIONS, f"docs/cli.md needs a heading `{path}`"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (" ".join(path), name)
        for path, command in COMMANDS
        for param in command.params
        for name in (
            [*param.opts, *param.secondary_opts]
            if param.param_type_name == "option"
            else [param.name.upper()]
        )
    ],
)
def test_command_option_is_documented_in_its_section(path, name):
    section = CLI_SECTIONS.get(path, "")
    assert re.search(rf"`{re.escape(name)}(`|[ =])", section), (
        f"docs/cli.md: `{name}` is not documented under `{path}`"
    )


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_setting_is_documented(field):
    prefix = Settings.model_config.get("env_prefix", "")
    assert prefix == "ACCOLADE_"
    variable = f"{prefix}{field.upper()}"
    assert f"`{variable}`" in CLI_SECTIONS["Settings"], f"docs/cli.md: settings lack `{variable}`"


# the modules that declare a program file's sections
PROGRAM_MODULES = (
    models,
    program_analytics,
    program_experiments,
    program_assessments,
    program_integrations,
    program_recommendations,
)


def program_models() -> list[type[BaseModel]]:
    """Every public model of a program file, found in its modules (a new one must be documented)."""
    return [
        obj
        for module in PROGRAM_MODULES
        for name, obj in vars(module).items()
        if inspect.isclass(obj)
        and issubclass(obj, BaseModel)
        and obj.__module__ == module.__name__
        and not name.startswith("_")
    ]


PROGRAM_SECTIONS = sections(PROGRAM_DOC)


def test_known_keys_are_the_keys_of_every_model():
    fields = {
        info.alias or name
        for model in program_models()
        for name, info in model.model_fields.items()
    }
    assert fields == models.known_keys()


@pytest.mark.parametrize("key", sorted(models.known_keys()))
def test_program_key_is_documented(key):
    assert f"`{key}`" in PROGRAM_DOC, f"docs/program.md does not document `{key}`"


@pytest.mark.parametrize(
    ("model", "key"),
    [
        (model.__name__, info.alias or name)
        for model in program_models()
        for name, info in model.model_fields.items()
    ],
)
def test_program_key_is_documented_in_its_model_section(model, key):
    assert model in PROGRAM_SECTIONS, f"docs/program.md needs a heading `{model}`"
    assert f"`{key}`" in PROGRAM_SECTIONS[model], (
        f"docs/program.md: `{key}` missing under `{model}`"
    )


@pytest.mark.parametrize("test", models.COMPARISONS)
def test_every_condition_test_is_documented(test):
    assert re.search(rf"^\| `{test}` \|", PROGRAM_SECTIONS["Condition"], re.MULTILINE)


@pytest.mark.parametrize("window", ["day", "week", "month", "quarter", "year"])
def test_every_calendar_window_is_documented(window):
    assert f"`{window}`" in PROGRAM_SECTIONS["Cap"]


@pytest.mark.parametrize("repeat", ["once", "yearly", "quarterly", "monthly"])
def test_every_badge_repeat_is_documented(repeat):
    assert f"| `{repeat}` |" in PROGRAM_SECTIONS["Badge"]


def yaml_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```", markdown, re.MULTILINE | re.DOTALL)


def test_program_doc_yaml_examples_parse():
    blocks = yaml_blocks(PROGRAM_DOC)
    assert len(blocks) > 10
    for block in blocks:
        assert isinstance(yaml.safe_load(block), dict | list), block


def test_program_doc_complete_programs_validate():
    """A block with a top-level `key` is a whole program; the others are fragments."""
    programs = [b for b in yaml_blocks(PROGRAM_DOC) if "key" in (yaml.safe_load(b) or {})]
    assert len(programs) >= 2
    for block in programs:
        load_program(block)


def test_example_partner_program_validates():
    program = load_program_file(ROOT / "examples" / "partner-program.yaml")
    assert program.key == "partner"
    assert (len(program.actions), len(program.badges), len(program.tiers)) == (6, 5, 4)


def test_openapi_json_in_docs_is_the_apps():
    from accolade.api.app import openapi_document

    stored = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert stored == json.loads(json.dumps(openapi_document())), (
        "docs/openapi.json is stale: run `accolade openapi -o docs/openapi.json`"
    )


def _api_paths():
    from accolade.api.app import openapi_document

    return [
        f"{method.upper()} {path}"
        for path, operations in openapi_document()["paths"].items()
        for method in operations
    ]


@pytest.mark.parametrize("endpoint", _api_paths())
def test_every_endpoint_is_documented(endpoint):
    docs = "".join(
        (ROOT / "docs" / name).read_text(encoding="utf-8")
        for name in ("api.md", "webhooks.md")
        if (ROOT / "docs" / name).exists()
    )
    assert f"`{endpoint}" in docs, f"docs/api.md (or webhooks.md) needs `{endpoint}`"
