"""`make lint` (import-linter) fails when the repository split or the layering is broken.

Each test copies the package to a scratch directory, adds one offending module
and runs ``lint-imports`` there, so the real tree is never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(
    tmp_path: Path, offender: str | None = None, source: str = ""
) -> subprocess.CompletedProcess:
    shutil.copytree(
        ROOT / "alzette", tmp_path / "alzette", ignore=shutil.ignore_patterns("__pycache__", "*.mo")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    if offender:
        (tmp_path / offender).write_text(source)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_real_tree_keeps_every_contract(tmp_path):
    result = _lint(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_territory_importing_personal_breaks_the_lint(tmp_path):
    result = _lint(
        tmp_path,
        "alzette/territory/geo/leak.py",
        "from alzette.personal.accounts.models import User\n",
    )
    assert result.returncode != 0
    assert "territory repository never imports the personal repository BROKEN" in result.stdout
    assert "alzette.territory.geo.leak" in result.stdout


@pytest.mark.parametrize(
    "statement",
    [
        "from django.http import HttpResponse\n",
        "from django import http\n",
        "import ninja\n",
    ],
)
def test_domain_importing_http_breaks_the_lint(tmp_path, statement):
    services = (ROOT / "alzette/territory/geo/services.py").read_text()
    result = _lint(tmp_path, "alzette/territory/geo/services.py", statement + services)
    assert result.returncode != 0
    assert "Domain modules import no HTTP framework BROKEN" in result.stdout


def test_indirect_http_import_through_a_helper_breaks_the_lint(tmp_path):
    shutil_target = "alzette/core/spatial.py"
    spatial = (ROOT / shutil_target).read_text()
    result = _lint(tmp_path, shutil_target, "import django.shortcuts\n" + spatial)
    assert result.returncode != 0
    assert (
        "via alzette.core.spatial" in result.stdout
        or "alzette.core.spatial imports" in result.stdout
    )
