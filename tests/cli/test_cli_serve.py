"""`accolade demo` ends with the API serving the demo; `accolade serve` and `keys` for real,
as processes on loopback."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(tmp_path: Path, *args: str, port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "ACCOLADE_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}",
        "ACCOLADE_PORT": str(port),
        "NO_COLOR": "1",
        "PYTHONUNBUFFERED": "1",  # lines as they are printed
    }
    return subprocess.Popen(
        [sys.executable, "-m", "accolade.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_ready(process: subprocess.Popen[str], url: str, seconds: float = 60) -> None:
    """Poll /readyz until it answers (the process loads the demo first)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the API did not become ready")


def stop(process: subprocess.Popen[str]) -> str:
    os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    return output


def test_demo_serves_the_api_with_the_key_it_prints(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(tmp_path, "demo", "--top", "3", port=port)
    printed: list[str] = []
    try:
        assert process.stdout is not None
        while not any("member portal" in line for line in printed):  # printed before serving
            line = process.stdout.readline()
            assert line, "".join(printed)
            printed.append(line)
        wait_ready(process, url)
        member = httpx.get(f"{url}/v1/members/partner-00000", timeout=5)
        assert member.status_code == 401
        link = re.search(rf"{re.escape(url)}/portal/enter\?token=mt_[\w.-]+", printed[-1])
        assert link, printed[-1]
        with httpx.Client(follow_redirects=True, timeout=5) as browser:
            home = browser.get(link.group(0))  # the link signs in, then the home page
        assert home.status_code == 200 and "· partner-00000" in home.text
    finally:
        output = "".join(printed) + stop(process)
    key = re.search(r"acc_[0-9a-f]{12}_[\w-]+", output)
    assert key, output
    assert f"Accolade API on {url}" in output and "/docs" in output


def test_serve_answers_with_a_key_from_keys_create(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env_db = f"sqlite:///{tmp_path / 'a.db'}"
    subprocess.run(
        [sys.executable, "-m", "accolade.cli", "init"],
        cwd=ROOT,
        env={**os.environ, "ACCOLADE_DATABASE_URL": env_db},
        check=True,
        capture_output=True,
    )
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "accolade.cli",
            "keys",
            "create",
            "--scope",
            "events:write,members:read",
        ],
        cwd=ROOT,
        env={**os.environ, "ACCOLADE_DATABASE_URL": env_db, "NO_COLOR": "1"},
        check=True,
        capture_output=True,
        text=True,
    )
    key = re.search(r"acc_[0-9a-f]{12}_[\w-]+", created.stdout)
    assert key, created.stdout
    process = start(tmp_path, "serve", port=port)
    try:
        wait_ready(process, url)
        headers = {"Authorization": f"Bearer {key.group(0)}"}
        event = {
            "id": "q-1",
            "type": "quiz.passed",
            "member": "ana",
            "occurred_at": "2026-05-04T09:30:00Z",
            "properties": {"quiz": "core", "score": 92},
        }
        sent = httpx.post(f"{url}/v1/events", json=event, headers=headers, timeout=10)
        assert sent.status_code == 201, sent.text
        member = httpx.get(f"{url}/v1/members/ana", headers=headers, timeout=10).json()
        assert member["balance"] == 100 and member["badges"][0]["key"] == "certified_user"
    finally:
        stop(process)


def test_serve_with_workers_on_postgresql_without_a_secret_is_one_clear_error(tmp_path):
    from sqlalchemy import create_engine, text

    from tests.integration.conftest import require_postgres

    url = require_postgres()
    schema = f"serve_{os.getpid()}_{time.monotonic_ns()}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    try:
        env = {k: v for k, v in os.environ.items() if k != "ACCOLADE_SECRET_KEY"}
        env["ACCOLADE_DATABASE_URL"] = f"{url}?options=-csearch_path%3D{schema}"
        env["ACCOLADE_PORT"] = str(free_port())
        result = subprocess.run(
            [sys.executable, "-m", "accolade.cli", "serve", "--workers", "2"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,  # before the fix, the workers failed one by one and it kept serving
        )
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()

    assert result.returncode == 2, result.stdout + result.stderr
    assert "ACCOLADE_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
