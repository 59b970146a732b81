from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from alzette.personal.accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "role", "unit_code", "is_active", "date_joined")
    list_filter = ("role", "is_active")
    search_fields = ("email", "first_name", "last_name")
    readonly_fields = ("pseudonym", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password", "pseudonym")}),
        ("Profile", {"fields": ("first_name", "last_name", "role", "unit_code")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"fields": ("email", "password1", "password2", "role", "unit_code")}),)
