from django.urls import path

from alzette.personal.developers import views

app_name = "developers"

urlpatterns = [
    path("", views.index, name="index"),
    path("register/", views.register, name="register"),
    path("apps/new/", views.app_new, name="app_new"),
    path("apps/<uuid:pk>/", views.app_detail, name="app"),
    path("apps/<uuid:pk>/keys/", views.key_new, name="key_new"),
    path("apps/<uuid:pk>/keys/<str:prefix>/revoke/", views.key_revoke, name="key_revoke"),
    path("apps/<uuid:pk>/secret/", views.secret_rotate, name="secret_rotate"),
    path("apps/<uuid:pk>/revoke/", views.app_revoke, name="app_revoke"),
    path("sharing/", views.sharing, name="sharing"),
    path("sharing/<uuid:pk>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("accesses/", views.accesses, name="accesses"),
    path("communities/", views.communities, name="communities"),
]
