"""Admin: a read-only view of payments and their notifications, for reconciliation.

Statuses change only through notifications (``services.apply_notification``),
where the checks, the ledger and the signal apply; the admin does not bypass them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from alzette.personal.payments.models import Payment, PaymentNotification


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class NotificationInline(admin.TabularInline):
    model = PaymentNotification
    fields = ("received_at", "status", "outcome", "detail", "raw")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(_ReadOnly):
    list_display = ("created_at", "label", "amount_cents", "provider", "status", "paid_at")
    list_filter = ("status", "provider")
    search_fields = ("reference", "provider_reference")
    inlines = [NotificationInline]
