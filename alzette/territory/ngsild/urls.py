"""NGSI-LD URL map (CIM 009 §6.1): under /ngsi-ld/v1/."""

from django.urls import path

from alzette.territory.ngsild import temporal_views as temporal
from alzette.territory.ngsild import views

app_name = "ngsild"
urlpatterns = [
    path("entities", views.entities_view, name="entities"),
    path("entities/<path:entity_id>/attrs/<str:attr>", views.attr_view, name="attr"),
    path("entities/<path:entity_id>/attrs", views.attrs_view, name="attrs"),
    path("entities/<path:entity_id>", views.entity_view, name="entity"),
    path("entityOperations/<str:operation>", views.batch_view, name="batch"),
    path("types", views.types_view, name="types"),
    path("types/<path:type_name>", views.type_view, name="type"),
    path("attributes", views.attributes_view, name="attributes"),
    path("attributes/<path:attr>", views.attribute_view, name="attribute"),
    path("temporal/entities", temporal.temporal_entities_view, name="temporal-entities"),
    path(
        "temporal/entities/<path:entity_id>/attrs/<str:attr>/<path:instance_id>",
        temporal.temporal_instance_view,
        name="temporal-instance",
    ),
    path(
        "temporal/entities/<path:entity_id>/attrs/<str:attr>",
        temporal.temporal_attr_view,
        name="temporal-attr",
    ),
    path(
        "temporal/entities/<path:entity_id>/attrs",
        temporal.temporal_attrs_view,
        name="temporal-attrs",
    ),
    path(
        "temporal/entities/<path:entity_id>", temporal.temporal_entity_view, name="temporal-entity"
    ),
    path("subscriptions", views.subscriptions_view, name="subscriptions"),
    path("subscriptions/<path:sub_id>", views.subscription_view, name="subscription"),
    path("jsonldContexts", views.contexts_view, name="contexts"),
    path("jsonldContexts/<str:context_id>", views.context_view, name="context"),
]
