"""Dashboard routes, mounted at /dashboard/."""

app_name = "dashboard"
urlpatterns: list = []
