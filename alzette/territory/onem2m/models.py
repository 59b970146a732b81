"""The resource tree of the CSE, the notification outbox and the originators' keys.

Every oneM2M resource is one row of ``Resource``: what every type shares (and what
requests filter on) is a column, the rest of its attributes sit in ``attrs``. One
table keeps addressing, access control and discovery uniform across types; the
indexes cover the hot paths (children of a parent in creation order, a path, an
expiry sweep).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Resource(models.Model):
    ri = models.CharField(_("resource id"), max_length=64, primary_key=True)
    ty = models.PositiveSmallIntegerField(_("resource type"))
    rn = models.CharField(_("resource name"), max_length=255)
    #: Parent resource id, "" for the CSEBase.
    pi = models.CharField(max_length=64, blank=True)
    #: Structured CSE-relative address ("alzette/streetlight-42/cmd").
    path = models.CharField(max_length=1024, unique=True)
    #: Root key of the representation (the specialisation of a flexContainer).
    tpe = models.CharField(max_length=100)
    ct = models.DateTimeField(_("created"))
    lt = models.DateTimeField(_("last modified"))
    et = models.DateTimeField(_("expires"), null=True, blank=True, db_index=True)
    st = models.PositiveIntegerField(default=0)
    cr = models.CharField(_("creator"), max_length=255, blank=True)
    #: The AE-ID (or admin) the resource belongs to: the originator allowed by
    #: default when no access control policy applies.
    owner = models.CharField(max_length=255, blank=True)
    lbl = models.JSONField(default=list, blank=True)
    acpi = models.JSONField(default=list, blank=True)
    #: Size in bytes (cs of a contentInstance, cbs of a container), for sza/szb.
    size = models.PositiveBigIntegerField(default=0)
    #: currentNrOfInstances of a container (counted in the row, updated atomically).
    cni = models.PositiveIntegerField(default=0)
    attrs = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("oneM2M resource")
        verbose_name_plural = _("oneM2M resources")
        constraints = [
            models.UniqueConstraint(fields=["pi", "rn"], name="onem2m_unique_name_in_parent")
        ]
        indexes = [models.Index(fields=["pi", "ty", "ct"], name="onem2m_children")]

    def __str__(self) -> str:
        return self.path


class Notification(models.Model):
    """One notification to one target, written in the transaction of its event.

    Delivered by ``notifications.deliver_due`` (right after the commit, then by the
    worker's retries); kept while the target is unreachable.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SUPERSEDED = "superseded"
    STATUSES = [
        (PENDING, _("pending")),
        (SENDING, _("sending")),
        (SENT, _("sent")),
        (FAILED, _("failed")),
        (SUPERSEDED, _("superseded")),
    ]

    subscription = models.CharField(max_length=64, db_index=True)
    target = models.CharField(max_length=1024)
    payload = models.JSONField()
    #: Batch notifications wait until bn/num are pending or bn/dur has passed.
    batch = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=STATUSES, default=PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    #: While a deliverer holds it (status "sending"): a crashed one's claim lapses.
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = _("oneM2M notification")
        verbose_name_plural = _("oneM2M notifications")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="onem2m_due")]

    def __str__(self) -> str:
        return f"{self.subscription} -> {self.target} ({self.status})"


class Credential(models.Model):
    """An organisation's key to the CSE: which originators it may speak for.

    The secret is shown once and stored hashed (SHA-256 of a 256-bit random value:
    no stretching is needed for a key nobody chose).
    """

    name = models.CharField(_("organisation"), max_length=200)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    #: Originator patterns ("Cbins-*", "S*", "CAdmin"); "*" alone matches all.
    originators = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("oneM2M credential")
        verbose_name_plural = _("oneM2M credentials")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"
