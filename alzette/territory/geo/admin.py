from django.contrib import admin

from alzette.territory.geo.models import TerritorialUnit


@admin.register(TerritorialUnit)
class TerritorialUnitAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "department", "parent")
    list_filter = ("kind", "department")
    search_fields = ("name", "code")
