"""Online procedures, mounted at /procedures/ (namespace ``procedures``)."""

from django.urls import path

from alzette.personal.procedures import builder_views, views

app_name = "procedures"

urlpatterns = [
    path("", views.index, name="index"),
    path("files/", views.mine, name="mine"),
    path("files/<uuid:pk>/", views.dossier, name="dossier"),
    path("files/<uuid:pk>/message/", views.message, name="message"),
    path("files/<uuid:pk>/pay/", views.pay, name="pay"),
    path("files/<uuid:pk>/attachments/<uuid:file_id>/", views.attachment, name="attachment"),
    path(
        "files/<uuid:pk>/receipt.pdf",
        views.document_pdf,
        {"document": "receipt"},
        name="receipt_pdf",
    ),
    path(
        "files/<uuid:pk>/decision.pdf",
        views.document_pdf,
        {"document": "decision"},
        name="decision_pdf",
    ),
    path("office/", views.office, name="office"),
    path("office/batch/", views.batch, name="batch"),
    path("office/tokens/", views.tokens, name="tokens"),
    path("office/tokens/<uuid:pk>/revoke/", views.revoke_token, name="revoke_token"),
    path("office/<uuid:pk>/", views.office_dossier, name="office_dossier"),
    path("office/<uuid:pk>/act/", views.act, name="act"),
    path("manage/", builder_views.manage, name="manage"),
    path("manage/new/", builder_views.settings_page, name="builder_new"),
    path("manage/<slug:slug>/", builder_views.edit, name="builder"),
    path("manage/<slug:slug>/settings/", builder_views.settings_page, name="builder_settings"),
    path("manage/<slug:slug>/preview/", builder_views.preview, name="builder_preview"),
    path("manage/<slug:slug>/publish/", builder_views.publish, name="builder_publish"),
    path("manage/<slug:slug>/fields/<slug:key>/", builder_views.field, name="builder_field"),
    path(
        "manage/<slug:slug>/fields/<slug:key>/action/",
        builder_views.field_action,
        name="builder_field_action",
    ),
    path("<slug:slug>/start/", views.start, name="start"),
]
