"""The NinjaAPI instance: one place where context routers are mounted."""

from __future__ import annotations

from alzette import __version__
from alzette.api.errors import install_error_handlers
from alzette.api.openapi import AlzetteAPI
from alzette.api.parser import StrictJsonParser
from alzette.ledger.api import router as ledger_router
from alzette.personal.homewater.api import router as homewater_router
from alzette.personal.households.api import router as households_router
from alzette.personal.procedures.api import router as procedures_router
from alzette.territory.catalogue.api import router as catalogue_router
from alzette.territory.documents.api import router as documents_router
from alzette.territory.events.api import router as events_router
from alzette.territory.geo.api import router as geo_router
from alzette.territory.lighting.api import router as lighting_router
from alzette.territory.lighting.commands.api import router as lighting_commands_router
from alzette.territory.lighting.energy.api import router as lighting_energy_router
from alzette.territory.lighting.repairs.api import router as lighting_repairs_router
from alzette.territory.partners.api import router as partners_router
from alzette.territory.supervision.api import router as supervision_router
from alzette.territory.water.api import router as water_router

api = AlzetteAPI(
    title="Alzette platform API",
    version=__version__,
    description=(
        "Platform API of Alzette, the smart-territory platform of the Pays Haut Val d'Alzette. "
        "Errors are RFC 9457 problem+json documents."
    ),
    urls_namespace="api-v1",
    parser=StrictJsonParser(),
    openapi_extra={
        "info": {"license": {"name": "EUPL-1.2", "identifier": "EUPL-1.2"}},
    },
)
install_error_handlers(api)
api.add_router("/territory", geo_router)
api.add_router("/territory", events_router)
api.add_router("/territory", documents_router)
api.add_router("/territory", catalogue_router)
api.add_router("/partners", partners_router)
api.add_router("/ledger", ledger_router)
api.add_router("/procedures", procedures_router)
api.add_router("/waste", households_router)
api.add_router("/supervision", supervision_router)
api.add_router("/lighting", lighting_router)
api.add_router("/lighting", lighting_commands_router)
api.add_router("/lighting", lighting_energy_router)
api.add_router("/lighting", lighting_repairs_router)
api.add_router("/water", water_router)
api.add_router("/water", homewater_router)
