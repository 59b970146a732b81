"""The "my data" domain: collection by category, receipts, access log, export, erasure."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import DatabaseError
from django.db.models import ProtectedError
from django.db.models.deletion import Collector
from django.utils.translation import gettext_lazy

from alzette.ledger import services as ledger
from alzette.ledger.entries import opens
from alzette.ledger.receipts import verify_receipt
from alzette.personal.accounts.models import User
from alzette.personal.mydata import services
from alzette.personal.mydata.models import AccessorKind, DataAccess, StoredReceipt
from tests.conftest import ALL_DATABASES
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def _verifies(receipt: dict) -> bool:
    return verify_receipt(receipt, ledger.signing_key().public_key) == []


def _session_for(user) -> str:
    store = SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store.create()
    return store.session_key


def test_collect_holds_every_category_of_the_person(agent_audun):
    data = services.collect(agent_audun)
    # The built-in categories come first; other apps register theirs after.
    assert list(data)[:6] == [
        "account",
        "email_addresses",
        "second_factors",
        "sessions",
        "receipts",
        "access_log",
    ]
    assert list(data) == list(services.DATA_SOURCES)
    (account,) = data["account"]
    assert account["email"] == agent_audun.email
    assert account["role"] == "agent"
    assert account["unit_code"] == "57038"
    assert account["pseudonym"] == agent_audun.pseudonym
    assert "password" not in account
    assert data["email_addresses"] == [
        {"email": agent_audun.email, "verified": True, "primary": True}
    ]
    (factor,) = data["second_factors"]
    assert set(factor) == {"type", "created_at", "last_used_at"}
    assert factor["type"] == "totp"
    assert data["sessions"] == [{"active_sessions": 0}]
    assert data["receipts"] == [] and data["access_log"] == []


def test_collect_returns_only_the_persons_own_records(citizen, partner):
    services.log_access(partner, AccessorKind.SERVICE, "Waste collection", "account", "Billing")
    services.record_receipt(partner, "personal_data.exported", "personal_data:x", {"n": 1})
    _session_for(partner)
    _session_for(citizen)
    data = services.collect(citizen)
    assert data["access_log"] == [] and data["receipts"] == []
    assert data["sessions"] == [{"active_sessions": 1}]
    assert [row["email"] for row in data["email_addresses"]] == [citizen.email]
    assert partner.email not in json.dumps(services.archive_data(citizen))


def test_record_receipt_keeps_the_receipt_and_the_salt(citizen):
    payload = {"service": "waste", "scope": "lifts"}
    stored = services.record_receipt(citizen, "consent.given", "consent:abc", payload)
    stored.refresh_from_db()
    assert stored.user == citizen and stored.kind == "consent.given"
    assert stored.receipt["entry"]["actor"] == citizen.pseudonym
    assert stored.receipt["entry"]["object"] == "consent:abc"
    assert stored.leaf_index == stored.receipt["leaf_index"]
    assert _verifies(stored.receipt)
    assert opens(stored.receipt["entry"]["commitment"], payload, stored.salt)
    assert ledger.current_size() == stored.leaf_index + 1
    document = services.receipt_document(stored)
    assert _verifies(document)
    assert document["opening"] == {"salt": stored.salt, "payload": payload}


def test_record_receipt_refuses_what_the_ledger_refuses(citizen):
    with pytest.raises(ValueError):
        services.record_receipt(citizen, "not.a.kind", "consent:abc", {})
    with pytest.raises(ValueError):
        services.record_receipt(citizen, "consent.given", "mail:camille@example.org", {})
    assert not StoredReceipt.objects.exists()
    assert ledger.current_size() == 0


def test_log_access_writes_the_log(citizen, agent_audun):
    access = services.log_access(
        citizen, AccessorKind.AGENT, agent_audun.unit.name, "account", "Request RQ-1"
    )
    assert access.accessor_label == "Audun-le-Tiche"
    mine = services.log_access(citizen, AccessorKind.SELF, "ignored", "all", "Export")
    assert mine.accessor_label == ""
    rows = services.collect(citizen)["access_log"]
    assert [row["accessor_kind"] for row in rows] == ["self", "agent"]
    assert rows[1]["category"] == "account" and rows[1]["purpose"] == "Request RQ-1"


@pytest.mark.parametrize(
    ("kind", "label", "category", "purpose"),
    [
        ("neighbour", "Unit", "account", "Why"),
        ("agent", "", "account", "Why"),
        ("agent", "agent@audun-le-tiche.example.org", "account", "Why"),
        ("service", "Waste", "no_such_category", "Why"),
        ("service", "Waste", "account", "  "),
    ],
)
def test_log_access_refuses_bad_input(citizen, kind, label, category, purpose):
    with pytest.raises(ValueError):
        services.log_access(citizen, kind, label, category, purpose)
    assert not DataAccess.objects.exists()


def _archive(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def test_export_archive_holds_json_and_csv_and_no_secret(agent_audun):
    secret = agent_audun.totp_secret
    password_hash = User.objects.get(pk=agent_audun.pk).password
    files = _archive(services.export_archive(agent_audun))
    categories = list(services.DATA_SOURCES)
    assert set(files) == {"data.json", "receipt.json", *(f"{c}.csv" for c in categories)}

    data = json.loads(files["data.json"].decode("utf-8"))
    assert data["format"] == "alzette-my-data" and data["version"] == 1
    assert list(data["categories"]) == categories
    assert data["categories"]["account"][0]["email"] == agent_audun.email
    assert data["categories"]["second_factors"][0]["type"] == "totp"
    # The export itself is in the access log it exports.
    assert data["categories"]["access_log"][0]["accessor_kind"] == "self"
    assert data["categories"]["access_log"][0]["category"] == "all"

    for category in categories:
        text = files[f"{category}.csv"].decode("utf-8")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == len(data["categories"][category]), category
        header = next(csv.reader(io.StringIO(text)))
        assert header == list(services.DATA_SOURCES[category].columns), category
    account_csv = list(csv.DictReader(io.StringIO(files["account.csv"].decode("utf-8"))))
    assert account_csv[0]["email"] == agent_audun.email

    everything = b"".join(files.values())
    assert agent_audun.email.encode() in everything
    assert secret and secret.encode() not in everything
    assert password_hash.encode() not in everything
    assert b"md5$" not in everything


def test_export_is_recorded_in_the_ledger_and_the_access_log(citizen):
    files = _archive(services.export_archive(citizen))
    stored = StoredReceipt.objects.get(user=citizen)
    assert stored.kind == "personal_data.exported"
    assert stored.receipt["entry"]["actor"] == citizen.pseudonym
    assert stored.receipt["entry"]["object"] == f"personal_data:{citizen.pseudonym}"
    assert _verifies(stored.receipt)
    # The receipt in the archive commits to data.json's digest.
    receipt = json.loads(files["receipt.json"])
    assert _verifies(receipt)
    assert receipt["opening"]["payload"]["data_json_sha256"] == (
        hashlib.sha256(files["data.json"]).hexdigest()
    )
    assert opens(
        receipt["entry"]["commitment"], receipt["opening"]["payload"], receipt["opening"]["salt"]
    )
    access = DataAccess.objects.get(user=citizen)
    assert access.accessor_kind == AccessorKind.SELF and access.category == "all"


def test_export_keeps_non_ascii_text_in_utf8(citizen):
    citizen.first_name, citizen.last_name = "Zoé", "Müller-Gonçalves"
    citizen.save()
    files = _archive(services.export_archive(citizen))
    assert "Müller-Gonçalves" in files["data.json"].decode("utf-8")
    assert "Zoé" in files["account.csv"].decode("utf-8")


def test_erase_account_records_the_erasure_then_deletes_everything(agent_audun, citizen):
    services.record_receipt(agent_audun, "consent.given", "consent:abc", {"a": 1})
    services.log_access(agent_audun, AccessorKind.ADMINISTRATOR, "Platform", "account", "Audit")
    agent_session = _session_for(agent_audun)
    citizen_session = _session_for(citizen)
    pk, pseudonym, size = agent_audun.pk, agent_audun.pseudonym, ledger.current_size()

    erased = services.erase_account(agent_audun)

    assert erased.kind == "personal_data.erased"
    assert erased.receipt["entry"]["actor"] == pseudonym
    assert erased.receipt["entry"]["kind"] == "personal_data.erased"
    assert erased.leaf_index == size and ledger.current_size() == size + 1
    assert _verifies(erased.receipt) and _verifies(erased.document())
    assert opens(erased.receipt["entry"]["commitment"], erased.payload, erased.salt)
    assert erased.payload["records"]["receipts"] == 1
    assert erased.payload["records"]["email_addresses"] == 1
    assert agent_audun.email not in json.dumps(erased.document())

    assert not User.objects.filter(pk=pk).exists()
    assert not EmailAddress.objects.filter(user_id=pk).exists()
    assert not EmailAddress.objects.filter(email="agent@audun-le-tiche.example.org").exists()
    assert not Authenticator.objects.filter(user_id=pk).exists()
    assert not StoredReceipt.objects.filter(user_id=pk).exists()
    assert not DataAccess.objects.filter(user_id=pk).exists()
    assert not Session.objects.filter(session_key=agent_session).exists()
    # Nobody else is touched; the ledger keeps its entries.
    assert User.objects.filter(pk=citizen.pk).exists()
    assert Session.objects.filter(session_key=citizen_session).exists()
    assert ledger.get_entry(size)[0]["actor"] == pseudonym


def test_the_erasure_receipt_can_be_rebuilt_from_the_public_ledger(citizen):
    erased = services.erase_account(citizen)
    UserFactory()  # the log grows: the receipt still refers to its own head
    services.record_receipt(UserFactory(), "consent.given", "consent:x", {})
    rebuilt = services.ledger_receipt(erased.leaf_index, erased.receipt["tree_head"]["tree_size"])
    assert rebuilt == erased.receipt
    with pytest.raises(ledger.LedgerRangeError):
        services.ledger_receipt(erased.leaf_index, 999)


def _mayor_hold(user):
    return gettext_lazy("A procedure is still under legal retention.") if user.email else None


def _quiet_hold(user):
    return None


def _broken_hold(user):
    raise RuntimeError("procedures database unreachable")


@pytest.fixture
def retention_hold(monkeypatch):
    monkeypatch.setitem(services.RETENTION_HOLDS, "procedures", f"{__name__}._mayor_hold")
    monkeypatch.setitem(services.RETENTION_HOLDS, "quiet", f"{__name__}._quiet_hold")


def test_a_retention_hold_refuses_the_erasure(citizen, retention_hold):
    size = ledger.current_size()
    assert services.retention_reasons(citizen) == ["A procedure is still under legal retention."]
    with pytest.raises(services.ErasureRefused) as refused:
        services.erase_account(citizen)
    assert refused.value.reasons == ["A procedure is still under legal retention."]
    assert User.objects.filter(pk=citizen.pk).exists()
    assert EmailAddress.objects.filter(user=citizen).exists()
    assert ledger.current_size() == size  # nothing recorded


def test_a_failing_retention_hold_fails_closed(citizen, monkeypatch):
    monkeypatch.setitem(services.RETENTION_HOLDS, "broken", f"{__name__}._broken_hold")
    with pytest.raises(RuntimeError):
        services.erase_account(citizen)
    assert User.objects.filter(pk=citizen.pk).exists()
    assert ledger.current_size() == 0


def test_protected_records_refuse_the_erasure(citizen, monkeypatch):
    def protected(self, objs, *args, **kwargs):
        raise ProtectedError("protected", set())

    monkeypatch.setattr(Collector, "collect", protected)
    with pytest.raises(services.ErasureRefused):
        services.erase_account(citizen)
    assert User.objects.filter(pk=citizen.pk).exists()
    assert ledger.current_size() == 0


def test_a_failing_deletion_records_nothing(citizen, monkeypatch):
    def fail(self):
        raise DatabaseError("disk full")

    monkeypatch.setattr(Collector, "delete", fail)
    with pytest.raises(DatabaseError):
        services.erase_account(citizen)
    assert User.objects.filter(pk=citizen.pk).exists()
    assert ledger.current_size() == 0  # no orphan entry


def test_a_failing_ledger_append_erases_nothing(citizen, monkeypatch):
    def fail(*args, **kwargs):
        raise DatabaseError("ledger database down")

    monkeypatch.setattr(ledger, "record", fail)
    with pytest.raises(DatabaseError):
        services.erase_account(citizen)
    assert User.objects.filter(pk=citizen.pk).exists()
    assert EmailAddress.objects.filter(user=citizen).exists()


def test_register_retention_hold(monkeypatch):
    monkeypatch.setattr(services, "RETENTION_HOLDS", {})
    services.register_retention_hold("procedures", f"{__name__}._quiet_hold")
    services.register_retention_hold("procedures", f"{__name__}._quiet_hold")  # idempotent
    with pytest.raises(ValueError):
        services.register_retention_hold("procedures", f"{__name__}._mayor_hold")
    assert dict(services.RETENTION_HOLDS) == {"procedures": f"{__name__}._quiet_hold"}


def pets(user):
    return [{"name": "Rex", "species": "dog"}, {"name": "Tom", "species": "cat"}]


def test_another_app_adds_a_data_source(citizen, monkeypatch):
    monkeypatch.setattr(services, "DATA_SOURCES", dict(services.DATA_SOURCES))
    source = services.DataSource(
        f"{__name__}.pets", "Pets", {"name": "Name", "species": "Species"}, "Your pets."
    )
    services.register_data_source("pets", source)
    services.register_data_source("pets", source)  # idempotent
    assert services.collect(citizen)["pets"][1] == {"name": "Tom", "species": "cat"}
    files = _archive(services.export_archive(citizen))
    assert files["pets.csv"].decode() == "name,species\r\nRex,dog\r\nTom,cat\r\n"
    for wrong in ("Pets", "all", "with space", "../x", ""):
        with pytest.raises(ValueError):
            services.register_data_source(wrong, source)
    with pytest.raises(ValueError):
        services.register_data_source("pets", services.DataSource("x.y", "Other", {}))


def test_operators_erase_through_the_command_not_the_admin(citizen, administrator, capsys):
    import json

    from django.contrib.admin.sites import site
    from django.core.management import call_command
    from django.test import RequestFactory

    from alzette.personal.accounts.models import User

    request = RequestFactory().get("/admin/")
    request.user = administrator
    assert site._registry[User].has_delete_permission(request, citizen) is False
    call_command("eraseaccount", citizen.email, "--yes")
    receipt = json.loads(capsys.readouterr().out)
    assert receipt["entry"]["kind"] == "personal_data.erased"
    assert not User.objects.filter(email=citizen.email).exists()
