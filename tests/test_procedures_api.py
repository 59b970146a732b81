"""The agents' API: tokens, files, exports and signed webhooks, with good and bad input."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import threading
import zipfile
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone

from alzette.personal.mydata.models import DataAccess
from alzette.personal.procedures import agent_api, services, webhooks
from alzette.personal.procedures.models import AgentToken, InstructorGroup, WebhookDelivery
from tests.conftest import ALL_DATABASES
from tests.files_helpers import pdf_bytes, use_attachments_dir
from tests.test_procedures import CRECHE, _filed

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

API = "/api/v1/procedures"


def _bearer(agent) -> dict[str, str]:
    _token, clear = agent_api.create_token(agent, "GED", 30)
    return {"HTTP_AUTHORIZATION": f"Bearer {clear}"}


@pytest.fixture
def files(citizen, procedures):
    """A Villerupt file (the child's name tries a spreadsheet formula) and an Audun one."""
    villerupt = _filed(citizen, procedures, answers={**CRECHE, "child_name": "=HYPERLINK(1)"})
    audun = _filed(citizen, procedures, commune="57038")
    services.start(citizen, procedures["preinscription-creche"])  # a draft, never exposed
    return villerupt, audun


# --- Tokens ----------------------------------------------------------------------


def test_only_agents_get_tokens_and_only_the_digest_is_kept(citizen, agent_villerupt):
    token, clear = agent_api.create_token(agent_villerupt, "GED", 30)
    assert clear.startswith("alz_") and clear not in token.digest and len(clear) > 40
    assert agent_api.authenticate(clear) == agent_villerupt
    with pytest.raises(agent_api.NotAllowed):
        agent_api.create_token(citizen, "mine", 30)
    with pytest.raises(ValueError):
        agent_api.create_token(agent_villerupt, "GED", 0)
    with pytest.raises(ValueError):
        agent_api.create_token(agent_villerupt, " ", 30)


def test_the_tokens_page_creates_shows_once_and_revokes(client, citizen, agent_villerupt):
    client.force_login(citizen)
    assert client.get("/procedures/office/tokens/").status_code == 403
    client.force_login(agent_villerupt)

    created = client.post("/procedures/office/tokens/", {"name": "GED", "days": "30"})
    token = AgentToken.objects.get(user=agent_villerupt)
    clear = created.context["created"]
    assert created.status_code == 200 and clear in created.content.decode()
    assert clear not in client.get("/procedures/office/tokens/").content.decode()
    too_long = client.post("/procedures/office/tokens/", {"name": "x", "days": "999"})
    assert too_long.status_code == 400

    client.post(f"/procedures/office/tokens/{token.pk}/revoke/")
    assert Client().get(f"{API}/files", HTTP_AUTHORIZATION=f"Bearer {clear}").status_code == 401


def test_no_expired_revoked_or_made_up_token_gets_in(agent_villerupt):
    token, clear = agent_api.create_token(agent_villerupt, "GED", 30)
    client = Client()
    assert client.get(f"{API}/files").status_code == 401
    assert client.get(f"{API}/files", HTTP_AUTHORIZATION="Bearer alz_madeup").status_code == 401
    AgentToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(f"{API}/files", HTTP_AUTHORIZATION=f"Bearer {clear}")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


# --- Files -----------------------------------------------------------------------


def test_an_agent_lists_only_their_commune_s_filed_files(files, agent_villerupt, agent_audun):
    villerupt, audun = files
    response = Client().get(f"{API}/files", **_bearer(agent_villerupt))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [item["reference"] for item in body["results"]] == [villerupt.reference]
    others = Client().get(f"{API}/files", **_bearer(agent_audun)).json()["results"]
    assert [item["reference"] for item in others] == [audun.reference]


def test_filters_narrow_and_bad_filters_are_422(files, agent_villerupt):
    auth = _bearer(agent_villerupt)
    client = Client()
    assert client.get(f"{API}/files?status=accepted", **auth).json()["count"] == 0
    assert client.get(f"{API}/files?status=submitted&commune=54580", **auth).json()["count"] == 1
    since = (timezone.now() + timedelta(hours=1)).isoformat().replace("+", "%2B")
    assert client.get(f"{API}/files?updated_since={since}", **auth).json()["count"] == 0
    for bad in ("status=draft", "commune=Villerupt", "limit=0", "limit=501", "offset=-1"):
        response = client.get(f"{API}/files?{bad}", **auth)
        assert response.status_code == 422, bad
        assert response["Content-Type"] == "application/problem+json"


def test_one_file_in_detail_is_logged_for_the_applicant(files, agent_villerupt, citizen):
    villerupt, audun = files
    auth = _bearer(agent_villerupt)

    response = Client().get(f"{API}/files/{villerupt.pk}", **auth)

    assert response.status_code == 200
    body = response.json()
    assert "=HYPERLINK(1)" in [item["answer"] for item in body["answers"]]
    assert body["history"][0]["to_status"] == "submitted"
    assert DataAccess.objects.filter(user=citizen, accessor_kind="agent").count() == 1
    assert Client().get(f"{API}/files/{audun.pk}", **auth).status_code == 404  # not theirs
    assert Client().get(f"{API}/files/not-a-uuid", **auth).status_code == 422


def test_the_csv_export_streams_every_answer_and_defuses_formulas(files, agent_villerupt, citizen):
    villerupt, _audun = files
    response = Client().get(f"{API}/files/export.csv", **_bearer(agent_villerupt))

    assert response.status_code == 200 and response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][:3] == ["reference", "procedure", "status"]
    assert len(rows) == 2 and rows[1][0] == villerupt.reference
    assert "'=HYPERLINK(1)" in rows[1] and "=HYPERLINK(1)" not in rows[1]
    exported = DataAccess.objects.get(user=citizen)
    assert exported.purpose == "File exported through the agents' API"
    assert exported.accessor_label == "Villerupt" and "@" not in exported.accessor_label


def test_the_zip_export_holds_the_csv_and_the_attachments(
    files, agent_villerupt, citizen, settings, tmp_path
):
    use_attachments_dir(settings, tmp_path / "attachments")
    villerupt, _audun = files
    upload = SimpleUploadedFile("justificatif.pdf", pdf_bytes(), content_type="application/pdf")
    services.post_message(citizen, villerupt, "Voici le justificatif.", [upload])

    response = Client().get(f"{API}/files/export.zip", **_bearer(agent_villerupt))

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert names[0] == "files.csv"
    attached = [name for name in names if name.startswith(f"{villerupt.reference}/")]
    assert len(attached) == 1 and attached[0].endswith("justificatif.pdf")
    assert archive.read(attached[0]) == pdf_bytes()


# --- Webhooks --------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    received: list = []
    answer = 204

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body.decode()))
        self.send_response(type(self).answer)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received, _Receiver.answer = [], 204
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver
    server.shutdown()


def _verify(secret: str, headers: dict, body: str) -> bool:
    """Standard Webhooks verification, written from the specification."""
    key = base64.b64decode(secret[len("whsec_") :])
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body}".encode()
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(part.split(",", 1)[1], expected)
        for part in headers["webhook-signature"].split()
        if part.startswith("v1,")
    )


def _register(agent, url, group):
    return Client().post(
        f"{API}/webhooks",
        json.dumps({"group": str(group.pk), "url": url}),
        content_type="application/json",
        **_bearer(agent),
    )


def test_a_transition_reaches_the_group_s_webhook_signed(
    files, agent_villerupt, receiver, django_capture_on_commit_callbacks
):
    url, handler = receiver
    villerupt, _audun = files
    created = _register(agent_villerupt, url, villerupt.group)
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")

    services.take(agent_villerupt, villerupt.pk)
    assert webhooks.deliver_due() == (1, 0)

    ((headers, body),) = handler.received
    headers = {key.lower(): value for key, value in headers.items()}
    assert _verify(secret, headers, body)
    assert not _verify(secret, headers, body.replace("in_instruction", "accepted"))
    data = json.loads(body)["data"]
    assert (data["reference"], data["from"], data["to"]) == (
        villerupt.reference,
        "submitted",
        "in_instruction",
    )
    assert "Camille" not in body and "HYPERLINK" not in body  # no answers in messages
    assert webhooks.deliver_due() == (0, 0)  # delivered once


def test_a_failing_receiver_gets_retries_then_the_webhook_is_disabled(
    files, agent_villerupt, receiver
):
    url, handler = receiver
    villerupt, _audun = files
    _register(agent_villerupt, url, villerupt.group)
    handler.answer = 500
    services.take(agent_villerupt, villerupt.pk)

    assert webhooks.deliver_due() == (0, 1)
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_status == 500 and delivery.next_attempt_at > timezone.now()
    assert webhooks.deliver_due() == (0, 0)  # not due yet

    later = timezone.now()
    for _ in range(webhooks.MAX_ATTEMPTS - 1):
        later += timedelta(hours=9)
        webhooks.deliver_due(now=later)
    delivery.refresh_from_db()
    assert delivery.failed_at is not None and delivery.attempts == webhooks.MAX_ATTEMPTS
    listed = Client().get(f"{API}/webhooks", **_bearer(agent_villerupt)).json()
    assert listed[0]["active"] is False and "HTTP 500" in listed[0]["disabled_reason"]
    assert listed[0]["failed"] == 1


def test_webhooks_belong_to_the_group_s_members(files, agent_villerupt, agent_audun, receiver):
    url, _handler = receiver
    villerupt, _audun = files
    group = villerupt.group
    assert _register(agent_audun, url, group).status_code == 403
    assert _register(agent_villerupt, "not a url", group).status_code == 422
    with override_settings(ALZETTE_MODE="production"):
        plain = _register(agent_villerupt, url, group)
        inside = _register(agent_villerupt, "https://127.0.0.1:8443/hook", group)
        private = _register(agent_villerupt, "https://10.0.0.5/hook", group)
    assert plain.status_code == 422 and "https" in plain.json()["detail"]
    assert inside.status_code == private.status_code == 422
    assert "public" in inside.json()["detail"]
    assert not webhooks.reaches_only_public_addresses("https://localhost/hook")
    assert not webhooks.reaches_only_public_addresses("https://[::1]/hook")
    assert webhooks.reaches_only_public_addresses("https://8.8.8.8/hook")
    created = _register(agent_villerupt, url, group).json()

    other = Client().delete(f"{API}/webhooks/{created['id']}", **_bearer(agent_audun))
    assert other.status_code == 404
    assert Client().get(f"{API}/webhooks", **_bearer(agent_audun)).json() == []
    mine = Client().delete(f"{API}/webhooks/{created['id']}", **_bearer(agent_villerupt))
    assert mine.status_code == 204
    assert not InstructorGroup.objects.get(pk=group.pk).webhooks.exists()


def test_in_production_nothing_is_posted_into_the_platform_s_own_network(
    files, agent_villerupt, receiver
):
    url, handler = receiver  # a receiver on 127.0.0.1, registered outside production
    villerupt, _audun = files
    _register(agent_villerupt, url, villerupt.group)
    services.take(agent_villerupt, villerupt.pk)

    with override_settings(ALZETTE_MODE="production"):
        assert webhooks.deliver_due() == (0, 1)

    assert handler.received == []
    assert "non-public" in WebhookDelivery.objects.get().last_error
