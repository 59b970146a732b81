"""OGC API - Features, mounted at /ogc (docs/opendata-ogc.md).

The project mounts this module as ``path("ogc", ...)`` so that the landing page
is /ogc; the other routes hang under one ``"/"`` include, which keeps Django's
urls.W002 check (no route may start with a slash) quiet.
"""

from django.urls import include, path, re_path

from alzette.territory.catalogue import ogc_views as views

_routes = [
    path("", views.landing),
    path("conformance", views.conformance, name="ogc-conformance"),
    path("api", views.service_desc, name="ogc-api"),
    path("api.html", views.service_doc, name="ogc-api-html"),
    path("collections", views.collections, name="ogc-collections"),
    path("collections/<slug:collection>", views.collection, name="ogc-collection"),
    path("collections/<slug:collection>/items", views.items, name="ogc-items"),
    path("collections/<slug:collection>/items/<str:feature>", views.item, name="ogc-item"),
    path("collections/<slug:collection>/queryables", views.queryables, name="ogc-queryables"),
    # Anything else under /ogc: an OGC exception rather than the site's HTML page.
    re_path(r"^.*$", views.unknown),
]

urlpatterns = [
    path("", views.landing, name="ogc-landing"),
    path("/", include(_routes)),
]
