"""Routes of the "my data" space, mounted at /my-data/."""

from django.urls import path

from alzette.personal.mydata import views

app_name = "mydata"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("export/", views.export, name="export"),
    path("receipts/<uuid:pk>.json", views.receipt, name="receipt"),
    path("erase/", views.erase, name="erase"),
    path("erased/<str:token>/", views.erased, name="erased"),
    path("erased/<str:token>/receipt.json", views.erased_receipt, name="erased_receipt"),
]
