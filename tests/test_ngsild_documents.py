"""Documents linked to entities appear as the entities' Relationships in NGSI-LD answers."""

from __future__ import annotations

import pytest

from tests import test_documents_samples as samples
from tests.conftest import ALL_DATABASES
from tests.ngsild_helpers import NgsiLd
from tests.test_documents_services import publish

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def test_linked_documents_show_as_relationships(agent_audun, settings, tmp_path):
    from alzette.territory.documents import services

    samples.use_document_store(settings, tmp_path)
    ld = NgsiLd()
    ld.create({"id": "urn:ngsi-ld:Building:12", "type": "TownHall", "name": "Mairie"})
    permit = publish(agent_audun, title="Permis")
    services.link(permit, "urn:ngsi-ld:Building:12", "refRenovationFile", actor=agent_audun)
    private = publish(agent_audun, content=samples.pdf("Audit"), name="audit.pdf", public=False)
    services.link(private, "urn:ngsi-ld:Building:12", "refAudit", actor=agent_audun)
    entity = ld.entity("urn:ngsi-ld:Building:12")
    assert entity["refRenovationFile"] == {
        "type": "Relationship",
        "object": permit.urn,
        "datasetId": permit.urn,
        "objectType": "https://schema.org/DigitalDocument",
    }
    listed = ld.get("/entities", type="TownHall").json()
    assert listed[0]["refRenovationFile"]["object"] == permit.urn
    assert "refRenovationFile" not in ld.entity("urn:ngsi-ld:Building:12", attrs="name")
    assert "refAudit" not in entity  # private documents are for agents only
