"""The README's tour runs as written on a fresh checkout.

Every line of its ```sh blocks that starts with `$ ` is a step of the tour: they run in order,
from the checkout's root (the README's paths are relative to it), on one fresh SQLite database.
`$ accolade ...` runs in-process; `$ curl ...` goes to the API (FastAPI's TestClient) on the same
database with a key made for it (`$KEY`). The lines the README shows under a step must be in its
output (spaces aside; `…` stands for lines left out), and a step exits 0, or 2 where the README
shows an `error:` line. Blocks without `$ ` prompts (installing, production set-up) are
instructions for another machine and are not run.

Commands quoted in the prose (`accolade program versions`) are not run (some serve, some need
what the tour does not make), but each must parse: a known command, known options, its
arguments.
"""

from __future__ import annotations

import json
import re
import shlex
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import typer.main
from typer.testing import CliRunner

from accolade import cli

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
runner = CliRunner()


@dataclass
class Step:
    line: int  # in README.md, for the failure message
    command: str
    shown: list[str] = field(default_factory=list)


def tour(markdown: str) -> list[Step]:
    """The `$ ` lines of the sh blocks, in order, each with the lines shown under it; a command
    continued on the next line (a trailing backslash) is joined."""
    steps: list[Step] = []
    language: str | None = None  # of the code block the line is in
    step: Step | None = None  # the block's step the lines below belong to
    continued = False
    for number, line in enumerate(markdown.splitlines(), 1):
        if line.startswith("```"):
            language = line[3:].strip() if language is None else None
            step, continued = None, False
        elif language != "sh":
            continue
        elif continued and step is not None:
            step.command += " " + line.strip()
        elif line.startswith("$ "):
            step = Step(number, line[2:].strip())
            steps.append(step)
        elif step is not None and line.strip():
            step.shown.append(line)
        if step is not None and step.command.endswith("\\"):
            step.command = step.command.removesuffix("\\").rstrip()
            continued = True
        else:
            continued = False
    return steps


def squeezed(text: str) -> str:
    return " ".join(text.split())


def test_the_tour_is_found():
    commands = [s.command for s in tour(README)]
    assert len(commands) > 20
    assert commands[0] == "accolade program validate examples/broken-program.yaml"
    assert any(c.startswith("curl ") for c in commands)


def _run_accolade(step: Step, args: list[str], url: str) -> str:
    result = runner.invoke(cli.app, args[1:], env={"ACCOLADE_DATABASE_URL": url})
    output = result.stdout + result.stderr
    wanted = 2 if any(s.startswith("error:") for s in step.shown) else 0
    assert result.exit_code == wanted, (
        f"README.md:{step.line}: `{step.command}` exited {result.exit_code}, not {wanted}:\n"
        f"{output}{result.exception or ''}"
    )
    return output


def _run_curl(step: Step, args: list[str], client, key: str) -> str:
    headers: dict[str, str] = {}
    body = None
    url = ""
    rest = iter(args[1:])
    for arg in rest:
        if arg == "-H":
            name, _, value = next(rest).partition(":")
            headers[name.strip()] = value.strip().replace("$KEY", key)
        elif arg == "-d":
            body = next(rest)
        else:
            url = arg
    path = urlsplit(url).path
    if body is None:
        response = client.get(path, headers=headers)
    else:
        response = client.post(path, headers=headers, content=body)
    assert response.status_code < 300, f"README.md:{step.line}: {response.text}"
    return json.dumps(response.json(), separators=(",", ":"), ensure_ascii=False)


def test_every_tour_command_runs_as_written(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from accolade.api.app import create_app
    from accolade.service.keys import SCOPES, create_key
    from accolade.settings import Settings
    from accolade.store.unit_of_work import Store

    monkeypatch.chdir(ROOT)
    url = f"sqlite:///{tmp_path}/tour.db"
    with ExitStack() as stack:
        api = None
        for step in tour(README):
            args = shlex.split(step.command, comments=True)
            if args[0] == "accolade":
                output = _run_accolade(step, args, url)
                lines = {squeezed(line) for line in output.splitlines()}
                for shown in step.shown:
                    if shown.strip() in ("…", "..."):
                        continue
                    assert squeezed(shown) in lines, (
                        f"README.md:{step.line}: `{step.command}` does not show\n{shown}\n"
                        f"but:\n{output}"
                    )
            elif args[0] == "curl":
                if api is None:
                    store = Store.open(url, migrate_schema=False)
                    stack.callback(store.close)
                    key = create_key(store, "partner", tuple(SCOPES), "readme").key
                    app = create_app(Settings(database_url=url), store, deliver_webhooks=False)
                    api = (stack.enter_context(TestClient(app)), key)
                body = _run_curl(step, args, *api)
                # what the README shows is the response with some of it left out (...): each
                # "name":value it shows is in the response as it is
                for shown in step.shown:
                    for pair in re.findall(r'"\w+":(?:"[^"]*"|-?\d+|true|false|null)', shown):
                        assert pair in body, f"README.md:{step.line}: no {pair} in {body}"
            else:
                pytest.fail(
                    f"README.md:{step.line}: the tour runs accolade and curl, not {args[0]}"
                )


def prose_commands(markdown: str) -> list[str]:
    """`accolade ...` quoted outside code blocks."""
    prose = re.sub(r"^```.*?^```", "", markdown, flags=re.MULTILINE | re.DOTALL)
    return re.findall(r"`(accolade [^`]+)`", prose)


def test_prose_commands_are_found():
    assert "accolade program versions" in prose_commands(README)


@pytest.mark.parametrize("command", prose_commands(README))
def test_prose_command_parses(command):
    _, *args = shlex.split(command)
    found = typer.main.get_command(cli.app)
    path = ["accolade"]
    while hasattr(found, "commands"):  # a group: the next word names one of its commands
        name, *args = args
        assert name in found.commands, f"README.md: `{command}`: no command {name}"
        found = found.commands[name]
        path.append(name)
    found.make_context(" ".join(path), args)  # raises on an unknown option, a missing argument
