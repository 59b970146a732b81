"""Sharing grants, partner applications, their credentials, rate limits and the log:
checked on every request, through the platform API, OAuth2 and NGSI-LD."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from alzette.ledger.models import LedgerEntry
from alzette.territory.catalogue import services as catalogue
from alzette.territory.catalogue.models import Dataset, Organisation
from alzette.territory.ngsild.models import Entity
from alzette.territory.partners import access, sandbox, services
from alzette.territory.partners.models import AccessLog, App, Credential, Grant, Usage
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
DB = "territory"
LD = "http://www.w3.org/ns/json-ld#context"
LIGHTING = "https://raw.githubusercontent.com/smart-data-models/dataModel.Streetlighting/master/context.jsonld"
WASTE = "https://raw.githubusercontent.com/smart-data-models/dataModel.WasteManagement/master/context.jsonld"


@pytest.fixture(autouse=True)
def _fresh_rate_windows():
    cache.clear()  # rate-limit windows of an earlier test must not count here


def _org(slug: str, kind: str = Organisation.Kind.COMPANY) -> Organisation:
    return Organisation.objects.using(DB).create(slug=slug, name=slug.title(), kind=kind)


@pytest.fixture
def ccphva():
    return _org("ccphva", Organisation.Kind.PUBLIC)


@pytest.fixture
def startup():
    return _org("mobilab", Organisation.Kind.STARTUP)


@pytest.fixture
def shared(ccphva):
    """A dataset of the EPCI that is not open: shared with communities only."""
    return catalogue.publish(
        ccphva,
        "communes-partagees",
        title={"fr": "Communes"},
        licence="etalab-2.0",
        source="communes",
        source_options={},
        access=Dataset.Access.COMMUNITY,
    )


def _app(org, *, scopes=("datasets:read",), environment="live", **quotas):
    app, secret = services.register_app(org, "App", scopes=list(scopes), environment=environment)
    if quotas:
        services.change_app(app, **quotas)
    _, key = services.issue_key(app)
    return app, secret, key


def _get(path, key=None, **headers):
    if key:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return Client().get(path, **headers)


def _share(ccphva, dataset=None, *, days=30, **kw):
    kw.setdefault("purpose", "Étude des mobilités")
    return services.share(
        ccphva, dataset=dataset, ends_at=timezone.now() + timedelta(days=days), **kw
    )


URL = "/api/v1/territory/datasets/communes-partagees"


# --- Grants ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"scope": ""}, "scope"),  # neither a dataset nor a scope
        ({"scope": "datasets:everything"}, "scope"),
        ({"scope": "context:read", "purpose": "  "}, "purpose"),
        ({"scope": "context:read", "ends_at_days": -1}, "ends_at"),
        ({"scope": "context:read", "grantee": None}, "organisation"),
    ],
    ids=["nothing", "unknown-scope", "no-purpose", "ends-before-start", "no-grantee"],
)
def test_a_bad_grant_is_refused_and_nothing_is_written(ccphva, startup, fields, field):
    ends = timezone.now() + timedelta(days=fields.pop("ends_at_days", 10))
    grantee = fields.pop("grantee", startup)
    with pytest.raises(ValidationError) as caught:
        services.share(ccphva, organisation=grantee, ends_at=ends, **{"purpose": "Étude", **fields})
    assert field in caught.value.message_dict
    assert not Grant.objects.using(DB).exists()
    assert not LedgerEntry.objects.filter(kind="sharing.granted").exists()


def test_open_data_and_other_publishers_data_cannot_be_shared(ccphva, startup, shared):
    open_data = catalogue.publish(
        ccphva,
        "communes",
        title={"fr": "Communes"},
        licence="etalab-2.0",
        source="communes",
        source_options={},
    )
    for publisher, dataset in ((ccphva, open_data), (startup, shared)):
        with pytest.raises(ValidationError) as caught:
            _share(publisher, dataset, organisation=startup)
        assert "dataset" in caught.value.message_dict
    assert not Grant.objects.using(DB).exists()


def test_restricted_data_goes_to_named_organisations_only(ccphva, startup, shared):
    catalogue.change(shared, access=Dataset.Access.RESTRICTED)
    community = services.create_community("mobilite", "Mobilité", members=[startup])
    with pytest.raises(ValidationError) as caught:
        _share(ccphva, shared, community=community)
    assert "community" in caught.value.message_dict
    assert _share(ccphva, shared, organisation=startup).active()


def test_every_grant_change_is_in_the_ledger(ccphva, startup, shared):
    grant = _share(ccphva, shared, organisation=startup)
    services.revoke(grant)
    lapsed = _share(ccphva, scope="context:read", organisation=startup, days=1)
    assert services.record_expiries(timezone.now() + timedelta(days=2)) == 1
    assert services.record_expiries(timezone.now() + timedelta(days=3)) == 0  # once
    kinds = list(LedgerEntry.objects.order_by("index").values_list("kind", flat=True))
    assert kinds[-3:] == ["sharing.revoked", "sharing.granted", "sharing.expired"]
    assert LedgerEntry.objects.filter(object=f"grant:{lapsed.pk}").count() == 2


# --- Datasets through the platform API ---------------------------------------------------------


def test_what_is_not_open_does_not_exist_without_a_key(shared):
    assert _get(URL).status_code == 404
    assert "communes-partagees" not in _get("/api/v1/territory/datasets").content.decode()


def test_a_key_without_a_grant_is_refused_and_logged(ccphva, startup, shared):
    _, _, key = _app(startup)
    response = _get(URL, key)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert "no grant" in response.json()["detail"]
    entry = AccessLog.objects.using(DB).get()
    assert (entry.allowed, entry.owner_id, entry.subject) == (False, ccphva.pk, shared.identifier)


def test_a_grant_opens_the_dataset_and_every_access_is_logged(ccphva, startup, shared):
    _, _, key = _app(startup)
    grant = _share(ccphva, shared, organisation=startup)
    listed = [d["identifier"] for d in _get("/api/v1/territory/datasets", key).json()]
    assert "communes-partagees" in listed
    assert _get(URL, key).status_code == 200
    download = _get(URL + "/data.csv", key)
    assert download.status_code == 200
    b"".join(download.streaming_content)
    log = AccessLog.objects.using(DB).filter(allowed=True)
    assert log.count() == 2
    assert {e.grant_id for e in log} == {grant.pk}
    assert {e.action for e in log} == {f"GET {URL}", f"GET {URL}/data.csv"}


def test_a_grant_to_a_community_reaches_its_members(ccphva, startup, shared):
    _, _, key = _app(startup)
    community = services.create_community("mobilite", "Mobilité", members=[startup])
    _share(ccphva, shared, community=community)
    assert _get(URL, key).status_code == 200
    services.set_members(community, [])
    assert _get(URL, key).status_code == 403


def test_a_grant_expires_by_itself_and_can_be_revoked(ccphva, startup, shared, monkeypatch):
    _, _, key = _app(startup)
    grant = _share(ccphva, shared, organisation=startup, days=1)
    assert _get(URL, key).status_code == 200
    later = timezone.now() + timedelta(days=2)
    monkeypatch.setattr(timezone, "now", lambda: later)  # no job has run: the end is checked
    assert _get(URL, key).status_code == 403
    monkeypatch.undo()
    services.revoke(grant)
    assert _get(URL, key).status_code == 403


def test_the_publishers_own_apps_read_its_data(ccphva, shared):
    _, _, key = _app(ccphva)
    assert _get(URL, key).status_code == 200


@pytest.mark.parametrize("case", ["revoked-key", "revoked-app", "garbage", "wrong-secret"])
def test_a_bad_credential_is_refused_never_downgraded(startup, shared, case, caplog):
    app, _, key = _app(startup)
    if case == "revoked-key":
        services.revoke_credential(Credential.objects.using(DB).get(app=app))
    elif case == "revoked-app":
        services.revoke_app(app)
    elif case == "garbage":
        key = "alzp_nothing_here"
    else:
        key = key[:-3] + "xyz"
    response = _get("/api/v1/territory/datasets", key)  # open to anonymous callers
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert response["Content-Type"] == "application/problem+json"
    assert "partner call refused: GET /api/v1/territory/datasets -> 401" in caplog.text


def test_a_key_needs_the_scope_and_a_sandbox_app_sees_only_the_sandbox(ccphva, startup, shared):
    _share(ccphva, shared, organisation=startup)
    _, _, no_scope = _app(startup, scopes=("context:read",))
    assert "datasets:read" in _get(URL, no_scope).json()["detail"]
    services.register_app  # noqa: B018 - the sandbox app below is a second app of the same org
    app, _ = services.register_app(
        startup, "Essai", scopes=["datasets:read"], environment="sandbox"
    )
    _, sandbox_key = services.issue_key(app)
    assert "sandbox" in _get(URL, sandbox_key).json()["detail"]


# --- Rate limits and quotas ----------------------------------------------------------------------


def test_over_the_rate_limit_is_429_with_retry_after(startup):
    app, _, key = _app(startup, per_minute=2)
    assert [_get("/api/v1/territory/datasets", key).status_code for _ in range(2)] == [200, 200]
    refused = _get("/api/v1/territory/datasets", key)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["Content-Type"] == "application/problem+json"
    usage = Usage.objects.using(DB).get(app=app)
    assert (usage.requests, usage.refused) == (2, 1)


def test_over_the_daily_quota_is_429_until_midnight(startup):
    app, _, key = _app(startup, per_day=3)
    for _ in range(3):
        assert _get("/api/v1/territory/datasets", key).status_code == 200
    refused = _get("/api/v1/territory/datasets", key)
    assert refused.status_code == 429
    assert "per day" in refused.json()["detail"]
    assert 60 < int(refused["Retry-After"]) <= 86_400 or int(refused["Retry-After"]) >= 1
    assert access.usage_by_day(app, 2)[-1][1:] == (3, 1)


def test_me_tells_an_app_its_quotas_usage_and_grants(ccphva, startup, shared):
    _, _, key = _app(startup)
    _share(ccphva, shared, organisation=startup)
    assert _get("/api/v1/partners/me").status_code == 401
    body = _get("/api/v1/partners/me", key).json()
    assert body["organisation"] == "mobilab"
    assert body["scopes"] == ["datasets:read"]
    assert body["grants"][0]["subject"] == "communes-partagees"
    assert body["usage"][-1]["requests"] == 1  # this very call
    assert len(body["usage"]) == 14


# --- OAuth2 client credentials ------------------------------------------------------------------


def _token(client_id, secret, **data):
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return _form({"grant_type": "client_credentials", **data}, HTTP_AUTHORIZATION=f"Basic {basic}")


def _form(data, **headers):
    return Client().post(
        "/partners/oauth/token",
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )


def test_client_credentials_give_a_token_that_works(ccphva, startup, shared):
    app, secret, _ = _app(startup, scopes=("datasets:read", "context:read"))
    _share(ccphva, shared, organisation=startup)
    response = _token(app.client_id, secret, scope="datasets:read")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert (body["token_type"], body["expires_in"], body["scope"]) == (
        "Bearer",
        3600,
        "datasets:read",
    )
    assert body["access_token"].startswith("alzt_")
    assert _get(URL, body["access_token"]).status_code == 200
    narrow = _token(app.client_id, secret, scope="context:read").json()["access_token"]
    assert _get(URL, narrow).status_code == 403  # the token carries only what it asked for


def test_client_secret_in_the_body_works_too(startup):
    app, secret, _ = _app(startup)
    response = _form(
        {"grant_type": "client_credentials", "client_id": app.client_id, "client_secret": secret}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("case", "status", "error"),
    [
        ("wrong-secret", 401, "invalid_client"),
        ("grant-type", 400, "unsupported_grant_type"),
        ("scope", 400, "invalid_scope"),
        ("revoked", 401, "invalid_client"),
    ],
)
def test_token_requests_are_refused_with_oauth_errors(startup, case, status, error):
    app, secret, _ = _app(startup)
    data = {}
    if case == "wrong-secret":
        secret = "nope"
    elif case == "grant-type":
        data["grant_type"] = "password"
    elif case == "scope":
        data["scope"] = "context:write"
    else:
        services.revoke_app(app)
    response = _token(app.client_id, secret, **data)
    assert response.status_code == status
    assert response.json()["error"] == error


def test_an_expired_or_rotated_token_is_refused(startup, monkeypatch):
    app, secret, _ = _app(startup)
    token = _token(app.client_id, secret).json()["access_token"]
    later = timezone.now() + timedelta(hours=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert "expired" in _get("/api/v1/partners/me", token).json()["detail"]
    monkeypatch.undo()
    token = _token(app.client_id, secret).json()["access_token"]
    services.rotate_client_secret(app)
    assert _get("/api/v1/partners/me", token).status_code == 401
    assert _token(app.client_id, secret).status_code == 401
    assert Client().get("/partners/oauth/token").status_code == 405


# --- NGSI-LD -------------------------------------------------------------------------------------


def _entity(entity_id):
    return json.dumps(
        {
            "id": entity_id,
            "type": "WasteContainer",
            "fillingLevel": {"type": "Property", "value": 0.4},
            "location": {
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [5.98, 49.47]},
            },
            "@context": WASTE,
        }
    )


def _post(key, tenant, entity_id):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    if tenant:
        headers["HTTP_NGSILD_TENANT"] = tenant
    return Client().post(
        "/ngsi-ld/v1/entities", _entity(entity_id), content_type="application/ld+json", **headers
    )


@pytest.fixture
def closed_broker(settings):
    settings.ALZETTE_NGSILD_OPEN = False


def test_a_sandbox_app_writes_only_the_sandbox(startup, closed_broker):
    app, _ = services.register_app(startup, "Essai", scopes=["context:write"])
    _, key = services.issue_key(app)
    assert _post(key, "sandbox", "urn:ngsi-ld:WasteContainer:s1").status_code == 201
    refused = _post(key, "", "urn:ngsi-ld:WasteContainer:s2")
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/forbidden")
    assert not Entity.objects.using(DB).filter(entity_id="urn:ngsi-ld:WasteContainer:s2").exists()


def test_a_live_app_writes_its_own_tenant_and_the_shared_one_with_a_grant(
    ccphva, startup, closed_broker
):
    _, _, key = _app(startup, scopes=("context:write",))
    assert _post(key, "mobilab", "urn:ngsi-ld:WasteContainer:own").status_code == 201
    assert _post(key, "", "urn:ngsi-ld:WasteContainer:d1").status_code == 403
    grant = _share(ccphva, scope="context:write", organisation=startup)
    assert _post(key, "", "urn:ngsi-ld:WasteContainer:d1").status_code == 201
    logged = AccessLog.objects.using(DB).filter(grant=grant).get()
    assert (logged.owner_id, logged.subject) == (ccphva.pk, "context:write@default")


def test_a_bad_key_on_ngsild_is_an_ngsild_error(startup):
    response = _post("alzp_bad_key", "", "urn:ngsi-ld:WasteContainer:x")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["type"].endswith("/unauthorized")


def test_the_sandbox_has_synthetic_data_for_every_theme():
    assert sandbox.seed(hours=3) == 4 * sandbox.PER_THEME
    assert sandbox.seed(hours=3) == 0  # once
    kinds = {e.entity_id.split(":")[2] for e in Entity.objects.using(DB).filter(tenant="sandbox")}
    assert len(kinds) == len(sandbox.THEMES)
    history = Client().get(
        "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:Streetlight:sandbox-lighting-01",
        {"attrs": "powerState"},
        HTTP_NGSILD_TENANT="sandbox",
        HTTP_LINK=f'<{LIGHTING}>; rel="{LD}"; type="application/ld+json"',
    )
    assert history.status_code == 200
    assert len(history.json()["powerState"]) == 4
    app, _ = services.register_app(_org("essai"), "Essai", scopes=["datasets:read"])
    _, key = services.issue_key(app)
    listed = [d["identifier"] for d in _get("/api/v1/territory/datasets", key).json()]
    assert sandbox.SANDBOX_DATASET in listed
    url = f"/api/v1/territory/datasets/{sandbox.SANDBOX_DATASET}"
    assert _get(url, key).status_code == 200
    assert _get(url).status_code == 404


# --- Command line --------------------------------------------------------------------------------


def test_the_partners_command(ccphva, startup, shared, capsys):
    call_command("partners", "app", "mobilab", "Tableau", "--scope", "datasets:read", "--live")
    client_id = App.objects.using(DB).get(name="Tableau").client_id
    call_command("partners", "issue-key", client_id)
    key = capsys.readouterr().out.strip().splitlines()[-1]
    call_command("partners", "community", "mobilite", "--name", "Mobilité", "--member", "mobilab")
    call_command(
        "partners",
        "share",
        "ccphva",
        "--dataset",
        "communes-partagees",
        "--community",
        "mobilite",
        "--purpose",
        "Étude",
        "--until",
        "2099-01-01",
    )
    assert _get(URL, key).status_code == 200
    call_command("partners", "grants")
    assert "active" in capsys.readouterr().out
    grant = Grant.objects.using(DB).get()
    call_command("partners", "revoke", str(grant.pk))
    assert _get(URL, key).status_code == 403
    call_command("partners", "expire")


@pytest.mark.parametrize(
    "args",
    [
        ["app", "nobody", "X"],
        ["app", "mobilab", "X", "--scope", "everything"],
        [
            "share",
            "ccphva",
            "--scope",
            "context:read",
            "--organisation",
            "mobilab",
            "--purpose",
            "x",
            "--until",
            "not-a-date",
        ],
        [
            "share",
            "ccphva",
            "--dataset",
            "missing",
            "--organisation",
            "mobilab",
            "--purpose",
            "x",
            "--until",
            "2099-01-01",
        ],
        ["issue-key", "alzc_missing"],
        ["revoke", "00000000-0000-0000-0000-000000000000"],
    ],
    ids=[
        "unknown-org",
        "unknown-scope",
        "bad-date",
        "unknown-dataset",
        "unknown-app",
        "unknown-grant",
    ],
)
def test_the_command_refuses_bad_input(ccphva, startup, args):
    with pytest.raises(CommandError):
        call_command("partners", *args)


def test_the_openapi_description_names_the_partner_credentials():
    schema = Client().get("/api/v1/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["partnerKey"]["scheme"] == "bearer"
    flow = schemes["partnerOAuth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/partners/oauth/token"
    assert set(flow["scopes"]) == {"datasets:read", "context:read", "context:write"}
    me = schema["paths"]["/api/v1/partners/me"]["get"]
    assert {} not in me["security"]  # required
    listing = schema["paths"]["/api/v1/territory/datasets"]["get"]
    assert {} in listing["security"]  # optional


def test_an_agents_token_is_not_taken_for_a_partner_key(agent_audun):
    from alzette.personal.procedures import agent_api

    _, token = agent_api.create_token(agent_audun, "Export", 30)
    assert not access.is_partner_credential(token)
