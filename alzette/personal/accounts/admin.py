from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest

from alzette.personal.accounts.models import OrganisationalUnit, PartnerOrganisation, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "role", "unit", "is_active", "date_joined")
    list_filter = ("role", "is_active")
    search_fields = ("email", "first_name", "last_name")
    readonly_fields = ("pseudonym", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password", "pseudonym")}),
        (
            "Profile",
            {
                "fields": (
                    "first_name",
                    "last_name",
                    "role",
                    "unit",
                    "partner_organisation",
                    "preferred_language",
                )
            },
        ),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"fields": ("email", "password1", "password2", "role", "unit")}),)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Accounts are erased through "my data" or `alzette eraseaccount`, which check
        # retention holds and record the erasure in the ledger; a bare delete would not.
        return False


@admin.register(OrganisationalUnit)
class OrganisationalUnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent")
    list_filter = ("kind",)
    search_fields = ("code", "name")


@admin.register(PartnerOrganisation)
class PartnerOrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "siret")
    search_fields = ("name", "siret")
