"""The language switch (``set_language``, the name the header's form uses) and the
preferences page. Mounted at the root: the paths carry their own prefixes."""

from django.urls import path

from alzette.personal.accounts import views

urlpatterns = [
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("accounts/preferences/", views.preferences, name="account_preferences"),
]
