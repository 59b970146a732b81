"""Simulator routes; mounted under /dev-idp/ outside production only."""

urlpatterns: list = []
