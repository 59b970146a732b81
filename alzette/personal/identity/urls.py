"""Routes of the relying parties, mounted at /accounts/."""

urlpatterns: list = []
