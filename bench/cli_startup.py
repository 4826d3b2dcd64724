"""Benchmark: how long an `accolade` command takes to start, beside `python -c pass`.

    python bench/cli_startup.py [--repeats 9] [--table]

On a small SQLite database it makes in a temporary folder (the demo program, 60 events over 5
members), it times as child processes, `--repeats` times each, taking turns, the median of:
- `python -c pass`: the interpreter alone, the floor;
- `accolade --help`;
- `accolade member show partner-00000 --json` (`--table`: without `--json`, for a checkout from
  before the option): a read, with settings, the database and the program.
Each figure is printed with its ratio to `python -c pass` (target: a command well under a
second). Both ways Python may find the modules:
- bytecode cached: what an installed accolade does from its second run (the cache is kept in the
  temporary folder, PYTHONPYCACHEPREFIX, so the checkout and .venv are left as they are);
- no bytecode: every module compiled from source at every start, as with PYTHONDONTWRITEBYTECODE=1
  on an installation without __pycache__ (some container images).
The accolade it times is the one `python` imports: PYTHONPATH=<another checkout>/src times that.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import accolade
from accolade.sample_events import generate_events


def accolade_command() -> list[str]:
    """The `accolade` script beside this interpreter (what a user runs), else `-m accolade.cli`."""
    script = Path(sys.executable).with_name("accolade")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "accolade.cli"]


def seconds(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr.decode()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument(
        "--table", action="store_true", help="time `member show` without --json (older checkouts)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="accolade-bench-startup-"))
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    base["ACCOLADE_DATABASE_URL"] = f"sqlite:///{work / 'startup.db'}"
    cached = {**base, "PYTHONPYCACHEPREFIX": str(work / "bytecode")}
    (work / "none").mkdir()
    uncached = {**base, "PYTHONPYCACHEPREFIX": str(work / "none"), "PYTHONDONTWRITEBYTECODE": "1"}

    cli = accolade_command()
    events = work / "events.jsonl"
    with events.open("w", encoding="utf-8") as out:
        for event in generate_events(60, 5, seed=7):
            out.write(json.dumps(event, separators=(",", ":")) + "\n")
    seconds([*cli, "init"], cached)
    seconds([*cli, "ingest", str(events)], cached)

    show = ["member", "show", "partner-00000", *([] if args.table else ["--json"])]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "accolade --help": [*cli, "--help"],
        f"accolade {' '.join(show)}": [*cli, *show],
    }
    for title, env in [
        ("bytecode cached (an installed accolade from its second run)", cached),
        ("no bytecode (every module compiled from source at every start)", uncached),
    ]:
        for command in commands.values():  # fills the cache; not timed
            seconds(command, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeats):
            for name, command in commands.items():
                times[name].append(seconds(command, env))
        floor = statistics.median(times["python -c pass"])
        print(f"{title}, median of {args.repeats}:")
        for name, measured in times.items():
            median = statistics.median(measured)
            ratio = "" if name == "python -c pass" else f"  {median / floor:5.1f} x python -c pass"
            print(f"  {name:<48} {median:6.3f} s{ratio}")
    source = Path(accolade.__file__).parent
    print(f"{os.cpu_count()} cores; Python {sys.version.split()[0]}; accolade from {source}")


if __name__ == "__main__":
    main()
