"""The form builder: agents create a procedure and its form without code, preview it
and publish versions; files keep the version they were filed under."""

from __future__ import annotations

import pytest
from django.test import Client

from alzette.personal.procedures import builder, schema, services
from alzette.personal.procedures.models import Dossier, Procedure
from tests.conftest import ALL_DATABASES
from tests.test_procedures import CRECHE

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_keys_come_from_french_labels():
    assert builder.key_from("Date de naissance", set()) == "date_de_naissance"
    assert builder.key_from("Date de naissance", {"date_de_naissance"}) == "date_de_naissance_2"
    assert builder.key_from("123 rue", set()) == "f_123_rue"
    assert builder.key_from("!!!", set()) == "field"


def test_an_agent_builds_previews_and_publishes_a_procedure(agent_audun):
    client = _client(agent_audun)
    response = client.post(
        "/procedures/manage/new/",
        {
            "slug": "inscription-brocante",
            "title_fr": "Inscription à la brocante",
            "summary_fr": "Réservez un emplacement.",
            "unit": agent_audun.unit.pk,
            "reference_prefix": "BRO",
            "fee_cents": 0,
            "instruction_days": 10,
            "retention_days": 365,
        },
    )
    assert response.status_code == 302
    procedure = Procedure.objects.get(slug="inscription-brocante")
    assert not procedure.published
    builder_url = "/procedures/manage/inscription-brocante/"
    client.post(builder_url, {"type": "yesno", "label_fr": "Êtes-vous professionnel ?"})
    client.post(builder_url, {"type": "text", "label_fr": "Numéro SIRET"})
    client.post(builder_url, {"type": "choice", "label_fr": "Emplacement"})
    draft = builder.draft(agent_audun, procedure)
    assert [f["key"] for f in draft.schema] == [
        "etes_vous_professionnel",
        "numero_siret",
        "emplacement",
    ]

    # The SIRET is asked for professionals only, in two languages, with a length limit.
    field_url = f"{builder_url}fields/numero_siret/"
    page = client.get(field_url, **EN).content.decode()
    assert 'name="cond_field_0"' in page and "etes_vous_professionnel" in page
    response = client.post(
        field_url,
        {
            "label_fr": "Numéro SIRET",
            "label_de": "SIRET-Nummer",
            "required": "on",
            "max_length": "14",
            "condition_mode": "all",
            "cond_field_0": "etes_vous_professionnel",
            "cond_op_0": "is_true",
        },
    )
    assert response.status_code == 302
    client.post(
        f"{builder_url}fields/emplacement/",
        {
            "options_fr": "Petit (3 m)\nGrand (6 m)",
            "options_en": "Small (3 m)\nLarge (6 m)",
            "label_fr": "Emplacement",
            "required": "on",
        },
    )
    draft.refresh_from_db()
    siret = draft.schema[1]
    assert siret["label"] == {"fr": "Numéro SIRET", "de": "SIRET-Nummer"}
    assert siret["condition"] == {"all": [{"field": "etes_vous_professionnel", "op": "is_true"}]}
    assert siret["validation"] == {"max_length": 14} and siret["required"] is True
    assert [c["value"] for c in draft.schema[2]["choices"]] == ["option_1", "option_2"]  # kept
    assert draft.schema[2]["choices"][1]["label"] == {"fr": "Grand (6 m)", "en": "Large (6 m)"}

    # Preview checks answers without saving anything.
    preview = client.post(f"{builder_url}preview/", {"f-etes_vous_professionnel": "yes"}, **EN)
    assert preview.status_code == 400 and "2 answers to correct" in preview.content.decode()
    assert not Dossier.objects.exists()

    client.post(f"{builder_url}publish/")
    procedure.refresh_from_db()
    assert procedure.published and procedure.current_version.number == 1
    assert procedure in services.offered()


def test_moving_a_field_before_the_one_it_tests_is_refused(agent_audun, agent_epci, procedures):
    creche = procedures["preinscription-creche"]
    client = _client(agent_audun)  # Audun's agents manage what their unit owns only
    assert client.get("/procedures/manage/preinscription-creche/").status_code == 403
    version = builder.draft(agent_epci, creche)
    with pytest.raises(schema.SchemaError, match="placed before"):
        builder.move_field(version, "birthdate", "up")
    with pytest.raises(schema.SchemaError):
        builder.remove_field(version, "born")  # birthdate's condition tests it
    version.refresh_from_db()
    assert [f["key"] for f in version.schema][:8] == [
        f["key"] for f in creche.current_version.schema
    ][:8]


def test_a_new_version_leaves_filed_files_on_theirs(citizen, procedures, agent_epci):
    creche = procedures["preinscription-creche"]
    dossier = services.start(citizen, creche)
    services.submit(citizen, dossier.pk, CRECHE)
    version = builder.draft(agent_epci, creche)
    builder.add_field(version, {"type": "text", "label": {"fr": "Allergies"}})
    assert builder.publish(agent_epci, creche).number == 2
    dossier.refresh_from_db()
    assert dossier.version.number == 1 and "allergies" not in {
        f["key"] for f in dossier.version.schema
    }
    assert services.start(citizen, creche).version.number == 2


@pytest.mark.parametrize("persona", ["citizen", "partner", "agent_villerupt"])
def test_the_builder_is_for_the_procedure_s_managers(request, persona, procedures):
    client = _client(request.getfixturevalue(persona))
    slug = "permis-stationnement-resident"  # owned by Audun-le-Tiche
    assert client.get(f"/procedures/manage/{slug}/").status_code == 403
    assert client.post(f"/procedures/manage/{slug}/publish/").status_code == 403
    assert (
        client.post(
            f"/procedures/manage/{slug}/fields/plate/action/", {"action": "delete"}
        ).status_code
        == 403
    )
    assert "plate" in {f["key"] for f in procedures[slug].current_version.schema}


def test_bad_settings_and_fields_are_refused(agent_audun, procedures):
    client = _client(agent_audun)
    response = client.post(
        "/procedures/manage/new/", {"slug": "files", "title_fr": "", "reference_prefix": "x"}
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"slug", "title_fr", "reference_prefix", "unit"} <= set(errors)
    url = "/procedures/manage/permis-stationnement-resident/fields/proof/"
    response = client.post(url, {"label_fr": "Justificatif", "accept": []})
    assert response.status_code == 400 and "accept" in response.context["form"].errors
