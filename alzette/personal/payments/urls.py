"""Payment routes, mounted at /payments/ (namespace ``payments``)."""

from django.urls import path

from alzette.personal.payments import views

app_name = "payments"

urlpatterns = [
    path("notify/<slug:provider>/", views.notify, name="notify"),
    path("<uuid:pk>/return/", views.payment_return, name="return"),
    path("simulator/<uuid:pk>/", views.simulator, name="simulator"),
]
