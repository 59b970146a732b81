"""The `alzette` console script: demo preparation and platform check."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import clean_env, run_alzette

_alzette = run_alzette


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("demo")
    return data_dir, _alzette(data_dir, "demo", "--no-serve")


def test_demo_prepares_both_repositories_and_prints_accounts(prepared):
    data_dir, result = prepared
    assert result.returncode == 0, result.stderr
    steps = re.findall(r"^\[(\d+)/(\d+)\] ", result.stdout, re.MULTILINE)
    total = len(steps)
    assert steps == [(str(n), str(total)) for n in range(1, total + 1)] and total >= 8
    for step in (
        "Migrating the personal database",
        "Migrating the territory database",
        "Filling the service store",
        "5 services published in the store",
    ):
        assert step in result.stdout
    for email in (
        "citoyen@demo.alzette.eu",
        "agent.audun@demo.alzette.eu",
        "agent.villerupt@demo.alzette.eu",
        "partenaire@demo.alzette.eu",
        "admin@demo.alzette.eu",
    ):
        assert email in result.stdout
    assert (data_dir / "personal.sqlite3").exists() and (data_dir / "territory.sqlite3").exists()


def test_demo_runs_twice(prepared):
    data_dir, _ = prepared
    again = _alzette(data_dir, "demo", "--no-serve")
    assert again.returncode == 0, again.stderr


def test_check_passes_after_demo(prepared):
    data_dir, _ = prepared
    result = _alzette(data_dir, "check")
    assert result.returncode == 0, result.stderr
    assert "personal: ok" in result.stdout and "territory: ok" in result.stdout


def test_check_reports_missing_migrations(tmp_path):
    result = _alzette(tmp_path, "check")
    assert result.returncode != 0
    assert "unapplied migration" in result.stderr


def test_unknown_command_fails(tmp_path):
    assert _alzette(tmp_path, "frobnicate").returncode != 0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_demo_serves_the_platform_over_http(tmp_path):
    """What a newcomer does: `alzette demo`, then the pages and probes answer over HTTP."""
    import time
    import urllib.request

    port = _free_port()
    env = clean_env()
    env["ALZETTE_DATA_DIR"] = str(tmp_path)
    server = subprocess.Popen(
        [sys.executable, "-m", "alzette.cli", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert server.poll() is None, "alzette demo exited early"
                assert time.monotonic() < deadline, "alzette demo did not serve within 120 s"
                time.sleep(0.5)
        for path, marker in [
            ("/", b"Audun-le-Tiche"),
            ("/healthz", b'"ok"'),
            ("/api/v1/openapi.json", b'"openapi": "3.1'),
            ("/static/leaflet/leaflet.js", b"Leaflet"),
            ("/api/v1/ledger/tree-head", b'"tree_size": '),
            (
                "/ngsi-ld/v1/entities?limit=1&type="
                "https://smartdatamodels.org/dataModel.WasteManagement/WasteContainer",
                b"urn:ngsi-ld:WasteContainer:",
            ),
        ]:
            with urllib.request.urlopen(base + path, timeout=5) as response:
                assert response.status == 200, path
                assert marker in response.read(), path
    finally:
        server.terminate()
        server.wait(timeout=30)
