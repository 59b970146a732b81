"""Rotation of the OpenID Provider's signing key (docs/sso.md, Key rotation).

The data directory's key is rotated with ``alzette sso rotate-key``; the provider's
settings are then rebuilt from the files, as a restarted process would. ID tokens are
verified with joserfc against the JWKS the provider publishes.
"""

from __future__ import annotations

import io
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.core.management import CommandError, call_command
from joserfc import jws

from alzette.personal.accounts.models import Role
from alzette.personal.sso import conf, keys
from alzette.personal.sso.checks import check_provider_configuration
from tests.factories import UserFactory
from tests.test_sso import (
    LIVE,
    SERVICE_A,
    _sso_settings,
    discovery,
    person,
    random_value,
    service_a,
    sign_in,
    sso_signing_key,
    verify_id_token,
)

#: Fixtures of tests/test_sso.py, used here by name.
SHARED_FIXTURES = (_sso_settings, person, service_a, sso_signing_key)


@pytest.fixture
def data_dir(settings, tmp_path):
    """A data directory of the test's own, its keys generated on first use, nothing
    configured in the environment."""
    settings.DATA_DIR = tmp_path / "data"
    settings.ALZETTE_MODE = "development"
    for name in (
        "ALZETTE_SSO_SIGNING_KEY",
        "ALZETTE_SSO_SIGNING_KEY_FILE",
        "ALZETTE_SSO_SIGNING_KEYS_INACTIVE",
        "ALZETTE_SSO_SIGNING_KEYS_INACTIVE_FILE",
    ):
        setattr(settings, name, "")
    restart(settings)
    return settings.DATA_DIR


def restart(settings) -> None:
    """The provider's settings as a process starting now would build them."""
    settings.OAUTH2_PROVIDER = {
        **conf.oauth2_provider_settings(production=False, data_dir=settings.DATA_DIR),
        "ALWAYS_RELOAD_OAUTHLIB_CORE": True,
    }


def rotate(*arguments: str) -> str:
    out = io.StringIO()
    call_command("sso", "rotate-key", *arguments, stdout=out)
    return out.getvalue()


def kid_of(id_token: str) -> str:
    return jws.extract_compact(id_token.encode()).protected["kid"]


def published_kids(live_server) -> list[str]:
    jwks = requests.get(discovery(live_server)["jwks_uri"], timeout=10).json()
    return [key["kid"] for key in jwks["keys"]]


# --- Over HTTP: what relying parties see ------------------------------------------------------


@LIVE
def test_after_a_rotation_old_id_tokens_still_verify_and_new_ones_use_the_new_key(
    live_server, person, service_a, settings, data_dir
):
    citizen = UserFactory(role=Role.CITIZEN)
    person.log_in(citizen)
    _, before, _ = sign_in(person, live_server, service_a, citizen)
    old_kid = kid_of(before["id_token"])
    assert published_kids(live_server) == [old_kid]

    output = rotate()
    restart(settings)

    new_kid = keys.key_id((data_dir / "sso" / keys.SIGNING_KEY_FILE).read_text())
    assert f"new signing key: {new_kid}" in output
    assert f"{old_kid}" in output
    assert published_kids(live_server) == [new_kid, old_kid]
    # Signed before the rotation, verified against the JWKS published after it.
    verify_id_token(live_server, before["id_token"], service_a)
    _, after, _ = sign_in(person, live_server, service_a, citizen)
    assert kid_of(after["id_token"]) == new_kid

    # The provider itself still accepts the old ID token as a logout hint.
    state = random_value()
    ended = person.get(
        discovery(live_server)["end_session_endpoint"],
        params={
            "id_token_hint": before["id_token"],
            "post_logout_redirect_uri": f"{SERVICE_A}/signed-out",
            "state": state,
        },
    )
    assert ended.status_code == 302
    assert ended.headers["Location"] == f"{SERVICE_A}/signed-out?state={state}"


# --- The command on the data directory ------------------------------------------------------


def test_rotation_keeps_the_old_key_as_retired_with_its_date(settings, data_dir):
    active = data_dir / "sso" / keys.SIGNING_KEY_FILE
    first = active.read_text()
    rotate()
    second = active.read_text()
    assert second != first
    assert stat.S_IMODE(active.stat().st_mode) == 0o600
    retired = keys.retired_keys(data_dir)
    assert [key.pem for key in retired] == [first]
    assert datetime.now(UTC) - retired[0].retired_at < timedelta(minutes=1)
    assert stat.S_IMODE(os.stat(retired[0].source).st_mode) == 0o600
    leftovers = [path.name for path in (data_dir / "sso").rglob(".*") if path.is_file()]
    assert leftovers == [".rotate.lock"], "no temporary file left"

    rotate()
    restart(settings)
    provider = settings.OAUTH2_PROVIDER
    assert provider["OIDC_RSA_PRIVATE_KEY"] == active.read_text()
    assert provider["OIDC_RSA_PRIVATE_KEYS_INACTIVE"] == [second, first]  # newest first
    assert check_provider_configuration() == []


def test_rotation_prunes_keys_retired_longer_ago_than_the_retention(data_dir):
    retired_dir = data_dir / "sso" / keys.RETIRED_KEYS_DIR
    retired_dir.mkdir(parents=True)
    now = datetime.now(UTC)

    def retired(days: float) -> str:
        stamp = (now - timedelta(days=days)).strftime(keys.RETIRED_STAMP)
        path = retired_dir / f"oidc-rs256.{stamp}.pem"
        path.write_text(keys.new_signing_key_pem())
        return str(path)

    old, recent, older_than_a_week = retired(31), retired(29), retired(8)
    output = rotate()
    kept = {key.source for key in keys.retired_keys(data_dir)}
    assert old not in kept and f"deleted (retired more than 30 days ago): {old}" in output
    assert {recent, older_than_a_week} <= kept and len(kept) == 3  # + the key just retired

    rotate("--keep-days", "7")
    kept = {key.source for key in keys.retired_keys(data_dir)}
    assert recent not in kept and older_than_a_week not in kept
    assert len(kept) == 2  # the two keys this test retired itself

    with pytest.raises(CommandError):
        rotate("--keep-days", "0")


def test_prune_keeps_keys_within_the_retention(tmp_path):
    keys.rotate_signing_key(tmp_path)  # nothing to retire yet: a key is made
    keys.rotate_signing_key(tmp_path, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert keys.prune_retired_keys(tmp_path, 30, now=datetime(2026, 1, 31, tzinfo=UTC)) == []
    assert len(keys.prune_retired_keys(tmp_path, 30, now=datetime(2026, 2, 1, tzinfo=UTC))) == 1
    assert keys.retired_keys(tmp_path) == []


@pytest.mark.parametrize(
    "configured",
    [
        {"ALZETTE_MODE": "production"},
        {"ALZETTE_SSO_SIGNING_KEY": "from-the-environment"},
        {"ALZETTE_SSO_SIGNING_KEYS_INACTIVE_FILE": "/run/secrets/retired.pem"},
    ],
)
def test_keys_from_the_environment_are_not_rotated_by_the_command(settings, data_dir, configured):
    before = sorted(path.read_bytes() for path in data_dir.rglob("*") if path.is_file())
    for name, value in configured.items():
        setattr(settings, name, value)
    with pytest.raises(CommandError, match="ALZETTE_SSO_SIGNING_KEYS_INACTIVE"):
        rotate()
    after = sorted(path.read_bytes() for path in data_dir.rglob("*") if path.is_file())
    assert after == before
    assert not (data_dir / "sso" / keys.RETIRED_KEYS_DIR).exists()


def test_list_keys(settings, data_dir):
    rotate()
    restart(settings)
    out = io.StringIO()
    call_command("sso", "list-keys", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split("\t")[1] for line in lines] == ["active", "retired"]
    assert lines[0].split("\t")[0] == keys.key_id(settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"])


# --- Retired keys from the environment, and the checks -----------------------------------------


def test_retired_keys_from_the_environment_are_published(settings, sso_signing_key, tmp_path):
    retired = [keys.new_signing_key_pem(), keys.new_signing_key_pem()]
    provider = conf.oauth2_provider_settings(
        production=True,
        data_dir="/nonexistent",
        signing_key=sso_signing_key,
        inactive_signing_keys="".join(retired),
    )
    assert provider["OIDC_RSA_PRIVATE_KEYS_INACTIVE"] == retired
    key_file = tmp_path / "retired.pem"
    key_file.write_text("\n".join(retired))
    provider = conf.oauth2_provider_settings(
        production=True,
        data_dir="/nonexistent",
        signing_key=sso_signing_key,
        inactive_signing_keys_file=str(key_file),
    )
    assert provider["OIDC_RSA_PRIVATE_KEYS_INACTIVE"] == retired
    # In production, the data directory's retired keys are never read.
    keys.rotate_signing_key(tmp_path)
    keys.rotate_signing_key(tmp_path)
    assert len(keys.retired_keys(tmp_path)) == 1
    provider = conf.oauth2_provider_settings(
        production=True, data_dir=tmp_path, signing_key=sso_signing_key
    )
    assert provider["OIDC_RSA_PRIVATE_KEYS_INACTIVE"] == []


def production_provider(settings, active: str, inactive: str) -> None:
    settings.ALZETTE_MODE = "production"
    settings.ALZETTE_SSO_SIGNING_KEYS_INACTIVE = inactive
    settings.ALZETTE_SSO_SIGNING_KEYS_INACTIVE_FILE = ""
    settings.OAUTH2_PROVIDER = conf.oauth2_provider_settings(
        production=True, data_dir="/nonexistent", signing_key=active, inactive_signing_keys=inactive
    )


def test_a_retired_key_that_does_not_parse_is_an_error_naming_its_source(settings, sso_signing_key):
    good = keys.new_signing_key_pem()
    truncated = good[: len(good) // 2]
    production_provider(settings, sso_signing_key, good + truncated)
    # Left out of the JWKS, which would fail whole otherwise.
    assert settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEYS_INACTIVE"] == [good]
    problems = check_provider_configuration()
    assert [problem.id for problem in problems] == ["sso.E003"]
    assert "ALZETTE_SSO_SIGNING_KEYS_INACTIVE, key 2" in problems[0].msg


def test_an_unreadable_retired_keys_file_is_an_error(settings, sso_signing_key, tmp_path):
    production_provider(settings, sso_signing_key, "")
    settings.ALZETTE_SSO_SIGNING_KEYS_INACTIVE_FILE = str(tmp_path / "missing.pem")
    problems = check_provider_configuration()
    assert [problem.id for problem in problems] == ["sso.E003"]
    assert "ALZETTE_SSO_SIGNING_KEYS_INACTIVE_FILE" in problems[0].msg


def test_a_retired_key_equal_to_the_active_one_is_a_warning(settings, sso_signing_key):
    production_provider(settings, sso_signing_key, sso_signing_key)
    problems = check_provider_configuration()
    assert [problem.id for problem in problems] == ["sso.W001"]
    assert "ALZETTE_SSO_SIGNING_KEYS_INACTIVE, key 1" in problems[0].msg
