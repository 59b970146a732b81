from django.urls import path

from alzette.territory.hypervision import views

app_name = "hypervision"

urlpatterns = [
    path("", views.index, name="index"),
    path("features.geojson", views.features, name="features"),
    path("live", views.live_view, name="live"),
    path("boards/", views.boards, name="boards"),
    path("boards/<int:pk>/", views.board, name="board"),
    path("boards/<int:pk>/edit/", views.board_edit, name="board_edit"),
]
