"""Top-level URL map: pages, the platform API, probes and metrics."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from alzette.api.urls import api
from alzette.core import health
from alzette.core.metrics import metrics

urlpatterns = [
    path("", include("alzette.web.urls")),
    path("accounts/", include("alzette.personal.identity.urls")),
    path("accounts/", include("allauth.urls")),
    path("my-data/", include("alzette.personal.mydata.urls")),
    path("o/", include("alzette.personal.sso.urls")),
    path("dashboard/", include("alzette.personal.dashboard.urls")),
    path("services/", include("alzette.personal.store.urls")),
    path("procedures/", include("alzette.personal.procedures.urls")),
    path("payments/", include("alzette.personal.payments.urls")),
    # The header's language switch (i18n/setlang/, "set_language") and accounts/preferences/.
    path("", include("alzette.personal.accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("onem2m/", include("alzette.territory.onem2m.urls")),
    path("ngsi-ld/v1/", include("alzette.territory.ngsild.urls")),
    path("catalog", include("alzette.territory.catalogue.dcat_urls")),
    path("api/3/action/", include("alzette.territory.catalogue.ckan_urls")),
    path("ogc", include("alzette.territory.catalogue.ogc_urls")),
    path("data/", include("alzette.territory.catalogue.urls")),
    path("partners/", include("alzette.territory.partners.urls")),
    path("developers/", include("alzette.personal.developers.urls")),
    path("waste/", include("alzette.personal.households.urls")),
    path("water/", include("alzette.personal.homewater.urls")),
    # The agents' hypervision: the more specific prefixes first.
    path("hypervision/supervision/", include("alzette.territory.supervision.urls")),
    path("hypervision/rounds/", include("alzette.territory.waste.rounds.urls")),
    path("hypervision/dumping/", include("alzette.territory.waste.dumping.urls")),
    path("hypervision/indicators/", include("alzette.territory.indicators.urls")),
    path("hypervision/waste/", include("alzette.territory.waste.urls")),
    path("hypervision/lighting/lamps/", include("alzette.territory.lighting.commands.urls")),
    path("hypervision/lighting/energy/", include("alzette.territory.lighting.energy.urls")),
    path("hypervision/lighting/repairs/", include("alzette.territory.lighting.repairs.urls")),
    path("hypervision/lighting/", include("alzette.territory.lighting.urls")),
    path("hypervision/water/", include("alzette.territory.water.urls")),
    path("hypervision/", include("alzette.territory.hypervision.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
]

# Pages in the visitor's language; under /api the ApiProblemMiddleware answers first.
handler400 = "alzette.web.errors.bad_request"
handler403 = "alzette.web.errors.permission_denied"
handler404 = "alzette.web.errors.page_not_found"
handler500 = "alzette.web.errors.server_error"

if settings.ALZETTE_DEV_IDP:
    urlpatterns.append(path("dev-idp/", include("alzette.devidp.urls")))
