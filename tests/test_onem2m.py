"""oneM2M IN-CSE over HTTP: resource types, requests, addressing, access control.

Each resource type is exercised with good input, bad input and an originator
that has no right to it; every refusal is a oneM2M response (X-M2M-RSC and
m2m:dbg), and a refused request leaves nothing behind.
"""

from __future__ import annotations

import pytest

from alzette.territory.onem2m.models import Resource
from tests.conftest import ALL_DATABASES
from tests.onem2m_helpers import ADMIN, M2M, rsc

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture(autouse=True)
def _onem2m_settings(settings):
    settings.ALZETTE_ONEM2M_DELIVERY = "worker"


# --- CSEBase and HTTP binding ---------------------------------------------------


def test_retrieve_cse_base(m2m):
    response = m2m.retrieve("alzette", origin="Canyone")
    assert response.status_code == 200
    assert rsc(response) == 2000
    assert response["X-M2M-RI"].startswith("rq")
    assert response["X-M2M-RVI"] == "3"
    cb = response.json()["m2m:cb"]
    assert cb["csi"] == "/id-alzette"
    assert cb["ri"] == "id-alzette"
    assert cb["cst"] == 1
    assert {1, 2, 3, 4, 9, 23, 28} <= set(cb["srt"])


def test_request_identifier_is_mandatory(m2m):
    response = m2m.client.get("/onem2m/alzette", headers={"X-M2M-Origin": ADMIN})
    assert response.status_code == 400
    assert rsc(response) == 4000
    assert "X-M2M-RI" in response.json()["m2m:dbg"]


def test_originator_is_mandatory(m2m):
    response = m2m.retrieve("alzette", origin="")
    assert rsc(response) == 4000


def test_unknown_release_is_refused(m2m):
    response = m2m.client.get(
        "/onem2m/alzette", headers={"X-M2M-Origin": ADMIN, "X-M2M-RI": "1", "X-M2M-RVI": "9"}
    )
    assert rsc(response) == 4001
    assert response.status_code == 501


def test_invalid_json_and_media_type(m2m):
    assert rsc(m2m.create("alzette", 2, "{not json")) == 4000
    response = m2m.client.post(
        "/onem2m/alzette",
        data="<xml/>",
        content_type="application/xml;ty=2",
        headers={"X-M2M-Origin": "C", "X-M2M-RI": "1"},
    )
    assert rsc(response) == 4015


def test_unknown_query_parameter_and_method(m2m):
    assert rsc(m2m.retrieve("alzette", foo="1")) == 4000
    response = m2m.client.patch("/onem2m/alzette", headers={"X-M2M-Origin": ADMIN, "X-M2M-RI": "1"})
    assert rsc(response) == 4005


def test_unsupported_resource_type(m2m):
    response = m2m.create("alzette", 16, {"m2m:csr": {}})
    assert rsc(response) == 5001


# --- AE registration ------------------------------------------------------------


def test_register_ae_with_assigned_id(m2m):
    response = m2m.create(
        "alzette",
        2,
        {"m2m:ae": {"rn": "meter", "api": "Nmeter", "rr": True, "poa": ["http://x"]}},
        origin="C",
    )
    assert response.status_code == 201
    ae = response.json()["m2m:ae"]
    assert ae["aei"].startswith("C") and ae["ri"] == ae["aei"]
    assert ae["pi"] == "id-alzette"
    assert response["Content-Location"] == ae["ri"]


def test_register_with_chosen_c_and_s_originators(m2m):
    body = {"m2m:ae": {"rn": "bin1", "api": "Rbins.alzette", "rr": False}}
    assert m2m.create("alzette", 2, body, origin="Cbin-0001").json()["m2m:ae"]["aei"] == (
        "Cbin-0001"
    )
    body = {"m2m:ae": {"rn": "app", "api": "Napp", "rr": False}}
    aei = m2m.create("alzette", 2, body, origin="S").json()["m2m:ae"]["aei"]
    assert aei.startswith("S")


def test_register_twice_is_refused(m2m):
    body = {"m2m:ae": {"rn": "bin1", "api": "Nbin", "rr": False}}
    assert m2m.create("alzette", 2, body, origin="Cbin-1").status_code == 201
    body["m2m:ae"]["rn"] = "bin2"
    response = m2m.create("alzette", 2, body, origin="Cbin-1")
    assert rsc(response) == 4117
    assert not Resource.objects.filter(rn="bin2").exists()


@pytest.mark.parametrize(
    ("body", "origin", "code"),
    [
        ({"m2m:ae": {"rn": "x", "rr": False}}, "C", 4000),  # api missing
        ({"m2m:ae": {"rn": "x", "api": "Nx"}}, "C", 4000),  # rr missing
        ({"m2m:ae": {"rn": "x", "api": "xbad", "rr": False}}, "C", 4000),  # api prefix
        ({"m2m:ae": {"rn": "x", "api": "Nx", "rr": "yes"}}, "C", 4000),
        ({"m2m:ae": {"rn": "x", "api": "Nx", "rr": False, "ri": "forged"}}, "C", 4000),
        ({"m2m:ae": {"rn": "x", "api": "Nx", "rr": False, "srv": ["7"]}}, "C", 4001),
        ({"m2m:ae": {"rn": "x", "api": "Nx", "rr": False}}, "bad-origin", 4126),
        ({"m2m:cnt": {"rn": "x"}}, "C", 4000),  # root does not match ty
        ({"m2m:ae": {"rn": "la", "api": "Nx", "rr": False}}, "C", 4000),  # reserved name
        ({"m2m:ae": {"rn": "x", "api": "Nx", "rr": False, "et": "20000101T000000"}}, "C", 4000),
    ],
)
def test_register_bad_input(m2m, body, origin, code):
    response = m2m.create("alzette", 2, body, origin=origin)
    assert rsc(response) == code, response.json()
    assert "m2m:dbg" in response.json()
    assert not Resource.objects.filter(ty=2).exists()


def test_ae_under_ae_is_an_invalid_child(m2m, lamp):
    body = {"m2m:ae": {"rn": "x", "api": "Nx", "rr": False}}
    assert rsc(m2m.create("alzette/lamp", 2, body, origin=lamp)) == 4108


def test_ae_updates_and_deregisters_itself(m2m, lamp):
    response = m2m.update("alzette/lamp", {"m2m:ae": {"poa": ["http://lamp.local"]}}, origin=lamp)
    assert rsc(response) == 2004
    assert response.json()["m2m:ae"]["poa"] == ["http://lamp.local"]
    assert rsc(m2m.update("alzette/lamp", {"m2m:ae": {"api": "Nother"}}, origin=lamp)) == 4000
    assert rsc(m2m.delete("alzette/lamp", origin="Cintruder")) == 4103
    assert rsc(m2m.delete("alzette/lamp", origin=lamp)) == 2002
    assert not Resource.objects.filter(path__startswith="alzette/lamp").exists()


def test_registration_is_in_the_ledger(m2m):
    from alzette.ledger.models import LedgerEntry

    m2m.register("ledgered")
    assert LedgerEntry.objects.filter(kind="device.registered").count() == 1


# --- Containers and instances -----------------------------------------------------


def test_container_limits_and_virtual_resources(m2m, lamp):
    m2m.container("alzette/lamp", "cmd", lamp, mni=2)
    for value in ("on", "dim:50", "off"):
        assert m2m.instance("alzette/lamp/cmd", value, lamp).status_code == 201
    cnt = m2m.retrieve("alzette/lamp/cmd", origin=lamp).json()["m2m:cnt"]
    assert (cnt["cni"], cnt["cbs"], cnt["st"]) == (2, 9, 3)
    assert m2m.retrieve("alzette/lamp/cmd/la", origin=lamp).json()["m2m:cin"]["con"] == "off"
    assert m2m.retrieve("alzette/lamp/cmd/ol", origin=lamp).json()["m2m:cin"]["con"] == "dim:50"
    assert rsc(m2m.delete("alzette/lamp/cmd/la", origin=lamp)) == 2002
    assert m2m.retrieve("alzette/lamp/cmd/la", origin=lamp).json()["m2m:cin"]["con"] == "dim:50"
    cnt = m2m.retrieve("alzette/lamp/cmd", origin=lamp).json()["m2m:cnt"]
    assert (cnt["cni"], cnt["cbs"]) == (1, 6)


def test_container_byte_limit(m2m, lamp):
    m2m.container("alzette/lamp", "small", lamp, mbs=10)
    assert m2m.instance("alzette/lamp/small", "123456", lamp).status_code == 201
    assert m2m.instance("alzette/lamp/small", "abcdef", lamp).status_code == 201
    cnt = m2m.retrieve("alzette/lamp/small", origin=lamp).json()["m2m:cnt"]
    assert (cnt["cni"], cnt["cbs"]) == (1, 6)
    response = m2m.instance("alzette/lamp/small", "x" * 11, lamp)
    assert rsc(response) == 5207


def test_lowering_mni_drops_the_oldest(m2m, lamp):
    for n in range(4):
        m2m.instance("alzette/lamp/data", str(n), lamp)
    m2m.update("alzette/lamp/data", {"m2m:cnt": {"mni": 1}}, origin=lamp)
    assert m2m.retrieve("alzette/lamp/data", origin=lamp).json()["m2m:cnt"]["cni"] == 1
    assert m2m.retrieve("alzette/lamp/data/ol", origin=lamp).json()["m2m:cin"]["con"] == "3"


def test_instance_attributes(m2m, lamp):
    response = m2m.create(
        "alzette/lamp/data",
        4,
        {"m2m:cin": {"con": '{"lux": 12}', "cnf": "application/json:0", "lbl": ["lux"]}},
        origin=lamp,
    )
    cin = response.json()["m2m:cin"]
    assert (cin["cs"], cin["st"], cin["cnf"], cin["lbl"]) == (11, 1, "application/json:0", ["lux"])
    assert cin["pi"] == Resource.objects.get(path="alzette/lamp/data").ri


def test_creator_is_set_when_asked(m2m, lamp):
    cin = m2m.instance("alzette/lamp/data", "1", lamp, cr=None).json()["m2m:cin"]
    assert cin["cr"] == lamp
    assert "cr" not in m2m.instance("alzette/lamp/data", "2", lamp).json()["m2m:cin"]


@pytest.mark.parametrize(
    "body",
    [
        {"m2m:cin": {}},
        {"m2m:cin": {"con": "1", "cs": 3}},
        {"m2m:cin": {"con": "1", "cr": "me"}},
        {"m2m:cin": {"con": "1", "lbl": "notalist"}},
        {"m2m:cin": "1"},
        {"m2m:cin": {"con": "1"}, "m2m:cnt": {}},
    ],
)
def test_instance_bad_input(m2m, lamp, body):
    response = m2m.create("alzette/lamp/data", 4, body, origin=lamp)
    assert rsc(response) == 4000
    assert Resource.objects.filter(ty=4).count() == 0
    assert m2m.retrieve("alzette/lamp/data", origin=lamp).json()["m2m:cnt"]["cni"] == 0


def test_instances_are_immutable(m2m, lamp):
    m2m.instance("alzette/lamp/data", "1", lamp)
    assert rsc(m2m.update("alzette/lamp/data/la", {"m2m:cin": {"lbl": []}}, origin=lamp)) == 4005
    ri = Resource.objects.get(ty=4).ri
    assert rsc(m2m.update(ri, {"m2m:cin": {"lbl": ["a"]}}, origin=lamp)) == 4005


def test_container_bad_input_and_wrong_role(m2m, lamp):
    assert rsc(m2m.create("alzette/lamp", 3, {"m2m:cnt": {"mni": -1}}, origin=lamp)) == 4000
    assert rsc(m2m.create("alzette/lamp", 3, {"m2m:cnt": {"cni": 3}}, origin=lamp)) == 4000
    assert rsc(m2m.create("alzette/lamp", 3, {"m2m:cnt": {}}, origin="Cother")) == 4103
    assert rsc(m2m.instance("alzette/lamp/data", "1", "Cother")) == 4103
    assert rsc(m2m.retrieve("alzette/lamp/data/la", origin="Cother")) == 4103
    assert rsc(m2m.create("alzette/lamp/data", 2, {"m2m:ae": {}}, origin=lamp)) == 4108


def test_name_conflict(m2m, lamp):
    response = m2m.create("alzette/lamp", 3, {"m2m:cnt": {"rn": "data"}}, origin=lamp)
    assert rsc(response) == 4105
    assert response.status_code == 409


def test_empty_container_has_no_latest(m2m, lamp):
    assert rsc(m2m.retrieve("alzette/lamp/data/la", origin=lamp)) == 4004


def test_not_found(m2m):
    response = m2m.retrieve("alzette/nothing")
    assert (response.status_code, rsc(response)) == (404, 4004)


# --- Addressing -------------------------------------------------------------------


def test_every_address_form_reaches_the_same_resource(m2m, lamp):
    cnt = Resource.objects.get(path="alzette/lamp/data")
    forms = [
        "alzette/lamp/data",
        "-/lamp/data",
        cnt.ri,
        f"{lamp}/data",
        "~/id-alzette/alzette/lamp/data",
        f"~/id-alzette/{cnt.ri}",
        "_/alzette.ccphva.fr/id-alzette/alzette/lamp/data",
        f"_/alzette.ccphva.fr/id-alzette/{cnt.ri}",
    ]
    for form in forms:
        response = m2m.retrieve(form, origin=lamp)
        assert response.status_code == 200, form
        assert response.json()["m2m:cnt"]["ri"] == cnt.ri


def test_other_cses_are_not_reachable(m2m):
    assert rsc(m2m.retrieve("~/id-elsewhere/cse")) == 5103
    assert rsc(m2m.retrieve("_/other.example/id-alzette/alzette")) == 5103


def test_sp_relative_originator_is_the_same_ae(m2m, lamp):
    response = m2m.retrieve("alzette/lamp/data", origin=f"/id-alzette/{lamp}")
    assert response.status_code == 200


# --- Result content and discovery ----------------------------------------------------


def test_result_contents_on_retrieve(m2m, lamp):
    m2m.instance("alzette/lamp/data", "1", lamp)
    ch = m2m.retrieve("alzette/lamp", origin=lamp, rcn=5).json()["m2m:ae"]["ch"]
    assert ch == [{"nm": "data", "typ": 3, "val": "alzette/lamp/data"}]
    rrf = m2m.retrieve("alzette/lamp", origin=lamp, rcn=6).json()["m2m:rrl"]["rrf"]
    assert [r["nm"] for r in rrf] == ["data"]
    full = m2m.retrieve("alzette/lamp", origin=lamp, rcn=4).json()["m2m:ae"]
    assert full["m2m:cnt"][0]["m2m:cin"][0]["con"] == "1"
    only = m2m.retrieve("alzette/lamp", origin=lamp, rcn=8).json()["m2m:ae"]
    assert "api" not in only and only["m2m:cnt"][0]["rn"] == "data"
    assert rsc(m2m.retrieve("alzette/lamp", origin=lamp, rcn=2)) == 4000


def test_result_contents_on_create(m2m, lamp):
    response = m2m.create("alzette/lamp/data", 4, {"m2m:cin": {"con": "1"}}, origin=lamp, rcn=0)
    assert response.content == b""
    uri = m2m.create("alzette/lamp", 3, {"m2m:cnt": {"rn": "b"}}, origin=lamp, rcn=2).json()
    assert uri == {"m2m:uri": "alzette/lamp/b"}
    rce = m2m.create("alzette/lamp", 3, {"m2m:cnt": {"rn": "c"}}, origin=lamp, rcn=3).json()
    assert rce["m2m:rce"]["uri"] == "alzette/lamp/c" and rce["m2m:rce"]["m2m:cnt"]["rn"] == "c"


def test_discovery(m2m, lamp):
    m2m.container("alzette/lamp", "power", lamp, lbl=["energy", "lighting"])
    m2m.instance("alzette/lamp/power", "12", lamp, lbl=["energy"])
    found = m2m.retrieve("alzette", origin=lamp, fu=1, ty=3).json()["m2m:uril"]
    assert found == ["alzette/lamp/data", "alzette/lamp/power"]
    found = m2m.retrieve("alzette", origin=lamp, fu=1, lbl="energy").json()["m2m:uril"]
    assert len(found) == 2
    found = m2m.retrieve("alzette", origin=lamp, fu=1, lbl="energy", ty=3).json()["m2m:uril"]
    assert found == ["alzette/lamp/power"]
    found = m2m.retrieve("alzette", origin=lamp, fu=1, lbl="energy", ty=3, fo=2).json()
    assert len(found["m2m:uril"]) == 3
    found = m2m.retrieve("alzette", origin=lamp, fu=1, lvl=1).json()["m2m:uril"]
    assert found == ["alzette/lamp"]
    found = m2m.retrieve("alzette", origin=lamp, fu=1, ty="3 4", lim=2, ofst=1).json()
    assert found["m2m:uril"] == ["alzette/lamp/power", found["m2m:uril"][1]]
    unstructured = m2m.retrieve("alzette/lamp", origin=lamp, fu=1, ty=3, drt=2).json()
    assert all(u.startswith("/id-alzette/cnt") for u in unstructured["m2m:uril"])
    refs = m2m.retrieve("alzette/lamp", origin=lamp, fu=1, ty=3, rcn=6).json()["m2m:rrl"]
    assert {r["nm"] for r in refs["rrf"]} == {"data", "power"}


def test_discovery_by_time_and_size(m2m, lamp):
    m2m.instance("alzette/lamp/data", "1", lamp)
    m2m.instance("alzette/lamp/data", "12345", lamp)
    assert len(m2m.retrieve("alzette", origin=lamp, fu=1, sza=3).json()["m2m:uril"]) == 2
    assert len(m2m.retrieve("alzette", origin=lamp, fu=1, ty=4, szb=3).json()["m2m:uril"]) == 1
    future = m2m.retrieve("alzette", origin=lamp, fu=1, cra="20991231T000000").json()
    assert future["m2m:uril"] == []
    past = m2m.retrieve("alzette", origin=lamp, fu=1, ty=4, crb="20991231T000000").json()
    assert len(past["m2m:uril"]) == 2


def test_discovery_hides_what_the_originator_may_not_discover(m2m, lamp):
    m2m.register("other", origin="Cother")
    found = m2m.retrieve("alzette", origin="Cother", fu=1).json()["m2m:uril"]
    assert found == ["alzette/other"]
    assert rsc(m2m.retrieve("alzette/lamp", origin="Cother", fu=1)) == 4103


@pytest.mark.parametrize(
    "query",
    [
        {"fu": 1, "cra": "yesterday"},
        {"fu": 1, "lim": -1},
        {"fu": 1, "ty": "x"},
        {"fu": 3},
        {"fu": 1, "rcn": 1},
        {"fu": 1, "drt": 3},
        {"rcn": "a"},
    ],
)
def test_discovery_bad_input(m2m, lamp, query):
    assert rsc(m2m.retrieve("alzette", origin=lamp, **query)) == 4000


def test_discovery_is_capped_and_says_so(m2m, lamp, settings):
    settings.ALZETTE_ONEM2M_DISCOVERY_LIMIT = 2
    for n in range(3):
        m2m.instance("alzette/lamp/data", str(n), lamp)
    response = m2m.retrieve("alzette/lamp/data", origin=lamp, fu=1)
    assert len(response.json()["m2m:uril"]) == 2
    assert (response["X-M2M-CTS"], response["X-M2M-CTO"]) == ("2", "2")


# --- Access control policies ----------------------------------------------------------


def _acp(m2m, parent, origin, readers, acop=2, name="readers"):
    body = {
        "m2m:acp": {
            "rn": name,
            "pv": {"acr": [{"acor": readers, "acop": acop}]},
            "pvs": {"acr": [{"acor": [origin], "acop": 63}]},
        }
    }
    response = m2m.create(parent, 1, body, origin=origin)
    assert response.status_code == 201, response.json()
    return response.json()["m2m:acp"]["ri"]


def test_acp_grants_what_it_says(m2m, lamp):
    acp = _acp(m2m, "alzette/lamp", lamp, ["Capp-*"])
    assert rsc(m2m.update("alzette/lamp/data", {"m2m:cnt": {"acpi": [acp]}}, origin=lamp)) == 2004
    m2m.instance("alzette/lamp/data", "1", lamp)
    assert m2m.retrieve("alzette/lamp/data/la", origin="Capp-dashboard").status_code == 200
    assert rsc(m2m.instance("alzette/lamp/data", "2", "Capp-dashboard")) == 4103
    assert rsc(m2m.retrieve("alzette/lamp/data", origin="Cstranger")) == 4103
    # The ACP itself is governed by pvs: the reader may not change it.
    assert rsc(m2m.retrieve("alzette/lamp/readers", origin="Capp-dashboard")) == 4103
    widened = {"m2m:acp": {"pv": {"acr": [{"acor": ["all"], "acop": 63}]}}}
    assert rsc(m2m.update("alzette/lamp/readers", widened, origin="Capp-dashboard")) == 4103


def test_acp_on_ae_covers_its_containers(m2m, lamp):
    acp = _acp(m2m, "alzette/lamp", lamp, ["Cops"], acop=2 | 1)
    m2m.update("alzette/lamp", {"m2m:ae": {"acpi": [acp]}}, origin=lamp)
    assert m2m.retrieve("alzette/lamp/data", origin="Cops").status_code == 200
    assert m2m.instance("alzette/lamp/data", "1", "Cops").status_code == 201
    assert rsc(m2m.delete("alzette/lamp/data", origin="Cops")) == 4103


@pytest.mark.parametrize(
    "pv",
    [
        {"acr": [{"acor": [], "acop": 2}]},
        {"acr": [{"acor": ["x"], "acop": 64}]},
        {"acr": [{"acor": ["x"], "acop": 2, "acco": [{"actw": ["* * * * * *"]}]}]},
        {"rules": []},
        [],
    ],
)
def test_acp_bad_input(m2m, lamp, pv):
    body = {"m2m:acp": {"pv": pv, "pvs": {"acr": [{"acor": [lamp], "acop": 63}]}}}
    assert rsc(m2m.create("alzette/lamp", 1, body, origin=lamp)) == 4000
    assert not Resource.objects.filter(ty=1).exists()


def test_acpi_must_reference_acps(m2m, lamp):
    response = m2m.update("alzette/lamp/data", {"m2m:cnt": {"acpi": ["nothing"]}}, origin=lamp)
    assert rsc(response) == 4000


def test_acp_changes_are_in_the_ledger(m2m, lamp):
    from alzette.ledger.models import LedgerEntry

    _acp(m2m, "alzette/lamp", lamp, ["Capp"])
    assert LedgerEntry.objects.filter(kind="access_policy.changed").count() == 1


def test_admin_may_do_everything(m2m, lamp):
    assert m2m.retrieve("alzette/lamp/data", origin=ADMIN).status_code == 200
    assert m2m.create("alzette", 3, {"m2m:cnt": {"rn": "shared"}}, origin=ADMIN).status_code == 201
    assert rsc(m2m.create("alzette", 3, {"m2m:cnt": {"rn": "mine"}}, origin=lamp)) == 4103


def test_cse_base_cannot_be_deleted(m2m):
    assert rsc(m2m.delete("alzette", origin=ADMIN)) == 4005


# --- Groups -----------------------------------------------------------------------------


def test_group_fan_out(m2m, lamp):
    other = m2m.register("lamp2")["aei"]
    m2m.container("alzette/lamp2", "data", other)
    acp = _acp(m2m, "alzette/lamp2", other, [lamp], acop=3)
    m2m.update("alzette/lamp2", {"m2m:ae": {"acpi": [acp]}}, origin=other)
    body = {
        "m2m:grp": {
            "rn": "street",
            "mt": 3,
            "mnm": 10,
            "mid": ["alzette/lamp/data", "alzette/lamp2/data"],
        }
    }
    group = m2m.create("alzette/lamp", 9, body, origin=lamp).json()["m2m:grp"]
    assert (group["cnm"], group["mtv"]) == (2, True)
    response = m2m.create(
        "alzette/lamp/street/fopt", 4, {"m2m:cin": {"con": "dim:30"}}, origin=lamp
    )
    assert response.status_code == 200
    answers = response.json()["m2m:agr"]["m2m:rsp"]
    assert [a["rsc"] for a in answers] == [2001, 2001]
    assert m2m.retrieve("alzette/lamp2/data/la", origin=other).json()["m2m:cin"]["con"] == "dim:30"
    latest = m2m.retrieve("alzette/lamp/street/fopt/la", origin=lamp).json()["m2m:agr"]["m2m:rsp"]
    assert [a["pc"]["m2m:cin"]["con"] for a in latest] == ["dim:30", "dim:30"]


def test_group_member_refusal_is_per_member(m2m, lamp):
    other = m2m.register("lamp2")["aei"]
    m2m.container("alzette/lamp2", "data", other)
    body = {"m2m:grp": {"mt": 3, "mnm": 5, "mid": ["alzette/lamp/data", "alzette/lamp2/data"]}}
    group = m2m.create("alzette/lamp", 9, body, origin=lamp).json()["m2m:grp"]
    response = m2m.create(f"{group['ri']}/fopt", 4, {"m2m:cin": {"con": "x"}}, origin=lamp)
    assert [a["rsc"] for a in response.json()["m2m:agr"]["m2m:rsp"]] == [2001, 4103]
    assert Resource.objects.filter(ty=4).count() == 1


def test_group_bad_input(m2m, lamp):
    def group(**attrs):
        body = {"m2m:grp": {"mt": 3, "mnm": 1, "mid": ["alzette/lamp/data"], **attrs}}
        return m2m.create("alzette/lamp", 9, body, origin=lamp)

    assert rsc(group(mnm=0)) == 4000
    assert rsc(group(mid=["alzette/lamp/data", "alzette/lamp"])) == 6010
    assert rsc(group(mid=["alzette/nowhere"])) == 4000
    assert rsc(group(mt=2, csy=2)) == 4110
    abandoned = group(mt=2).json()["m2m:grp"]
    assert abandoned["mid"] == [] and abandoned["cnm"] == 0
    mixed = group(mt=2, csy=3, rn="mixed").json()["m2m:grp"]
    assert mixed["mt"] == 24 and mixed["cnm"] == 1


# --- flexContainer ------------------------------------------------------------------------


def test_flex_container(m2m, lamp):
    body = {"cod:binSw": {"rn": "switch", "cnd": "org.onem2m.common.moduleclass.binarySwitch",
                          "powSe": False}}  # fmt: skip
    response = m2m.create("alzette/lamp", 28, body, origin=lamp)
    assert response.status_code == 201, response.json()
    flex = response.json()["cod:binSw"]
    assert flex["powSe"] is False and flex["st"] == 0
    updated = m2m.update("alzette/lamp/switch", {"cod:binSw": {"powSe": True}}, origin=lamp)
    assert updated.json()["cod:binSw"]["powSe"] is True
    assert updated.json()["cod:binSw"]["st"] == 1
    assert rsc(m2m.update("alzette/lamp/switch", {"m2m:cnt": {"powSe": 1}}, origin=lamp)) == 4000
    refs = m2m.retrieve("alzette/lamp", origin=lamp, rcn=6).json()["m2m:rrl"]["rrf"]
    assert {"nm": "switch", "typ": 28, "val": "alzette/lamp/switch",
            "spty": "org.onem2m.common.moduleclass.binarySwitch"} in refs  # fmt: skip


def test_flex_container_bad_input(m2m, lamp):
    assert rsc(m2m.create("alzette/lamp", 28, {"cod:x": {"powSe": 1}}, origin=lamp)) == 4000
    assert rsc(m2m.create("alzette/lamp", 28, {"m2m:fcnt": {"cnd": "x"}}, origin=lamp)) == 4000
    assert rsc(m2m.create("alzette/lamp", 28, {"cod:x": {"cnd": "x"}}, origin="Co")) == 4103


# --- Expiration ----------------------------------------------------------------------------


def test_expired_resources_disappear(m2m, lamp):
    from datetime import timedelta

    from django.utils import timezone

    from alzette.territory.onem2m import tree

    m2m.container("alzette/lamp", "short", lamp, et="20991231T000000")
    Resource.objects.filter(path="alzette/lamp/short").update(
        et=timezone.now() - timedelta(seconds=1)
    )
    assert rsc(m2m.retrieve("alzette/lamp/short", origin=lamp)) == 4004
    assert tree.expire() == 1
    assert not Resource.objects.filter(path="alzette/lamp/short").exists()


def test_max_instance_age(m2m, lamp):
    from datetime import timedelta

    from django.utils import timezone

    from alzette.territory.onem2m import tree

    m2m.container("alzette/lamp", "recent", lamp, mia=60)
    m2m.instance("alzette/lamp/recent", "old", lamp)
    Resource.objects.filter(ty=4).update(ct=timezone.now() - timedelta(minutes=5))
    m2m.instance("alzette/lamp/recent", "new", lamp)
    cnt = m2m.retrieve("alzette/lamp/recent", origin=lamp).json()["m2m:cnt"]
    assert cnt["cni"] == 1
    Resource.objects.filter(ty=4).update(ct=timezone.now() - timedelta(minutes=5))
    tree.expire()
    assert m2m.retrieve("alzette/lamp/recent", origin=lamp).json()["m2m:cnt"]["cni"] == 0


# --- Credentials (production) -----------------------------------------------------------------


@pytest.fixture
def closed(settings):
    settings.ALZETTE_ONEM2M_OPEN = False


def test_closed_cse_requires_a_key(m2m, closed):
    response = m2m.retrieve("alzette", origin="Cbins-1")
    assert (response.status_code, rsc(response)) == (403, 4107)
    response = M2M(key="m2m_dead_beef").retrieve("alzette", origin="Cbins-1")
    assert rsc(response) == 4107


def test_key_speaks_for_its_originators_and_its_aes(closed):
    from alzette.territory.onem2m import security

    _credential, key = security.issue("Collectes Lorraine", ["Cbins-*", "C"])
    client = M2M(key=key)
    body = {"m2m:ae": {"rn": "bin7", "api": "Nbin", "rr": False}}
    assert client.create("alzette", 2, body, origin="Cbins-7").status_code == 201
    body = {"m2m:ae": {"rn": "anon", "api": "Nbin", "rr": False}}
    assigned = client.create("alzette", 2, body, origin="C").json()["m2m:ae"]["aei"]
    assert client.retrieve("alzette/anon", origin=assigned).status_code == 200
    assert rsc(client.retrieve("alzette", origin="Clamps-1")) == 4103
    body = {"m2m:ae": {"rn": "s", "api": "Nbin", "rr": False}}
    assert rsc(client.create("alzette", 2, body, origin="S")) == 4103
    # Another organisation's key cannot speak for these AEs.
    _other, other_key = security.issue("Other", ["Cother-*"])
    assert rsc(M2M(key=other_key).retrieve("alzette/anon", origin=assigned)) == 4103


def test_revoked_key_is_refused(closed):
    from django.utils import timezone

    from alzette.territory.onem2m import security

    credential, key = security.issue("Gone", ["C*"])
    credential.revoked_at = timezone.now()
    credential.save()
    assert rsc(M2M(key=key).retrieve("alzette", origin="Cx")) == 4107


def test_internal_error_is_a_5000_without_details(m2m, monkeypatch):
    from alzette.territory.onem2m import cse

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(cse, "_retrieve", boom)
    response = m2m.retrieve("alzette")
    assert (response.status_code, rsc(response)) == (500, 5000)
    assert "secret" not in response.content.decode()
