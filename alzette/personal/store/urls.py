"""Service store routes, mounted at /services/ (namespace ``store``)."""

from django.urls import path

from alzette.personal.store import views

app_name = "store"

urlpatterns = [
    path("", views.index, name="index"),
    path("manage/", views.manage, name="manage"),
    path("manage/new/", views.edit, name="create"),
    path("manage/<slug:slug>/edit/", views.edit, name="edit"),
    path("manage/<slug:slug>/submit/", views.submit, name="submit"),
    path("manage/<slug:slug>/withdraw/", views.withdraw, name="withdraw"),
    path("manage/<slug:slug>/credentials/", views.credentials, name="credentials"),
    path("moderation/", views.moderation, name="moderation"),
    path("moderation/<slug:slug>/", views.moderate, name="moderate"),
    path("providers/<slug:slug>/", views.provider, name="provider"),
    path("logos/<path:name>", views.logo, name="logo"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/activate/", views.activate, name="activate"),
    path("<slug:slug>/deactivate/", views.deactivate, name="deactivate"),
]
