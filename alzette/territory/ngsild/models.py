"""NGSI-LD storage: entities as documents, with index rows for queries.

An entity is one row holding its attributes in expanded form (``body``), so a
retrieval is one read. Queries narrow rows through index tables written in the
same transaction: entity types, simple attribute values (numbers, strings,
booleans) and geometry bounding boxes; the exact predicate is then checked on
the document (docs/ngsi-ld.md, "Storage"). History lives in
``AttributeInstance`` (the temporal API), one row per attribute instance.
"""

from __future__ import annotations

from django.db import models

DEFAULT_TENANT = ""


class Entity(models.Model):
    tenant = models.CharField(max_length=64, default=DEFAULT_TENANT, blank=True)
    entity_id = models.CharField(max_length=512)
    types = models.JSONField(default=list)
    scope = models.JSONField(null=True, blank=True)
    body = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    modified_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "entity_id"], name="ngsild_entity_unique_id")
        ]
        indexes = [models.Index(fields=["tenant", "modified_at"], name="ngsild_entity_modified")]

    def __str__(self) -> str:
        return self.entity_id


class EntityType(models.Model):
    """One row per type of an entity (entities may have several, CIM 009 §4.16)."""

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="type_rows")
    tenant = models.CharField(max_length=64, default=DEFAULT_TENANT, blank=True)
    type_iri = models.CharField(max_length=512)

    class Meta:
        indexes = [models.Index(fields=["tenant", "type_iri"], name="ngsild_type_lookup")]

    def __str__(self) -> str:
        return self.type_iri


class AttributeIndex(models.Model):
    """A scalar value of a top-level attribute instance, for narrowing ``q`` queries."""

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="value_rows")
    attribute = models.CharField(max_length=512)
    kind = models.CharField(max_length=20, default="Property")
    number = models.FloatField(null=True)
    text = models.CharField(max_length=255, null=True)  # noqa: DJ001 - NULL: not a string
    # Lower case without accents, for the unified search (``search.py``).
    folded = models.CharField(max_length=255, null=True)  # noqa: DJ001 - NULL: not a string

    class Meta:
        indexes = [
            models.Index(fields=["attribute", "number"], name="ngsild_value_number"),
            models.Index(fields=["attribute", "text"], name="ngsild_value_text"),
        ]

    def __str__(self) -> str:
        return self.attribute


class GeoIndex(models.Model):
    """The bounding box of a GeoProperty instance, for narrowing geo-queries."""

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="geo_rows")
    attribute = models.CharField(max_length=512)
    min_x = models.FloatField()
    min_y = models.FloatField()
    max_x = models.FloatField()
    max_y = models.FloatField()

    class Meta:
        indexes = [
            models.Index(fields=["attribute", "min_x", "max_x"], name="ngsild_geo_x"),
            models.Index(fields=["attribute", "min_y", "max_y"], name="ngsild_geo_y"),
        ]

    def __str__(self) -> str:
        return self.attribute


class AttributeInstance(models.Model):
    """One past or present instance of an attribute: the temporal history.

    Rows are written when attributes are created or change; ``number`` holds
    numeric values so aggregations run in SQL. On PostgreSQL the table is
    partitioned by month of ``observed_at`` (migration 0002, docs/ngsi-ld.md).
    """

    id = models.BigAutoField(primary_key=True)
    tenant = models.CharField(max_length=64, default=DEFAULT_TENANT, blank=True)
    entity_id = models.CharField(max_length=512)
    attribute = models.CharField(max_length=512)
    dataset_id = models.CharField(max_length=512, default="", blank=True)
    observed_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    number = models.FloatField(null=True)
    instance = models.JSONField()

    class Meta:
        indexes = [
            models.Index(
                fields=["tenant", "entity_id", "attribute", "observed_at"],
                name="ngsild_history_lookup",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity_id} {self.attribute} {self.observed_at}"


class JsonLdContext(models.Model):
    """A context a user registered at /jsonldContexts (CIM 009 §5.13)."""

    KINDS = [("hosted", "Hosted"), ("cached", "Cached"), ("implicitlycreated", "Implicit")]
    context_id = models.CharField(max_length=64, unique=True)
    tenant = models.CharField(max_length=64, default=DEFAULT_TENANT, blank=True)
    url = models.CharField(max_length=1024, unique=True)
    kind = models.CharField(max_length=20, choices=KINDS, default="hosted")
    document = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True)
    uses = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.url


class Subscription(models.Model):
    """An NGSI-LD subscription (CIM 009 §5.2.12), kept in expanded form."""

    tenant = models.CharField(max_length=64, default=DEFAULT_TENANT, blank=True)
    subscription_id = models.CharField(max_length=512)
    body = models.JSONField()
    context = models.JSONField(null=True)
    active = models.BooleanField(default=True)
    expires_at = models.DateTimeField(null=True)
    throttling = models.FloatField(null=True)
    time_interval = models.FloatField(null=True)
    next_due_at = models.DateTimeField(null=True)
    last_notification = models.DateTimeField(null=True)
    last_success = models.DateTimeField(null=True)
    last_failure = models.DateTimeField(null=True)
    times_sent = models.PositiveIntegerField(default=0)
    times_failed = models.PositiveIntegerField(default=0)
    owner = models.CharField(max_length=200, default="", blank=True)
    created_at = models.DateTimeField()
    modified_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "subscription_id"], name="ngsild_subscription_unique_id"
            )
        ]

    def __str__(self) -> str:
        return self.subscription_id


class Notification(models.Model):
    """An outbox row: a notification to deliver, written in the change's transaction."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE)
    payload = models.JSONField()
    created_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True)
    claim = models.CharField(max_length=36, default="", blank=True)
    last_error = models.CharField(max_length=300, default="", blank=True)

    class Meta:
        indexes = [models.Index(fields=["next_attempt_at"], name="ngsild_outbox_due")]

    def __str__(self) -> str:
        return f"notification {self.pk}"


class Tenant(models.Model):
    """A tenant, created by its first write (CIM 009 §4.14)."""

    name = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A key that may write (or read) the context of some tenants; stored hashed."""

    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    tenants = models.JSONField(default=list)
    can_write = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class DeviceMapping(models.Model):
    """How a oneM2M container's contentInstances become an entity's attribute.

    ``container`` is a CSE-relative resource path pattern (``*`` matches one
    path segment), e.g. ``alzette/Cbin-*/fill``. The entity id is a template
    over the matched segments: ``{ae}`` is the AE's resource name, ``{1}`` the
    first ``*``. ``value_path`` picks a member of a JSON content (dotted), or
    the whole content when empty.
    """

    name = models.CharField(max_length=200, unique=True)
    tenant = models.CharField(max_length=64, default=DEFAULT_TENANT, blank=True)
    container = models.CharField(max_length=512)
    entity_type = models.CharField(max_length=512)
    entity_id = models.CharField(max_length=512)
    attribute = models.CharField(max_length=512)
    value_path = models.CharField(max_length=200, default="", blank=True)
    unit_code = models.CharField(max_length=16, default="", blank=True)
    context = models.JSONField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Rollup(models.Model):
    """Sums of numeric history over a span, kept on write (``temporal.add_rollups``)."""

    tenant = models.CharField(max_length=64, default=DEFAULT_TENANT, blank=True)
    entity_id = models.CharField(max_length=512)
    attribute = models.CharField(max_length=512)
    dataset_id = models.CharField(max_length=512, default="", blank=True)
    count = models.PositiveIntegerField(default=0)
    total = models.FloatField(default=0)
    squares = models.FloatField(default=0)
    minimum = models.FloatField(null=True)
    maximum = models.FloatField(null=True)

    class Meta:
        abstract = True


class AttributeRollup(Rollup):
    """Hourly sums of numeric history, so aggregations read few rows.

    An aggregation whose period is a whole number of hours (PT1H, P1D, P1M...)
    reads these rows instead of the raw history (docs/ngsi-ld.md, "Temporal").
    """

    hour = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "entity_id", "attribute", "dataset_id", "hour"],
                name="ngsild_rollup_unique_hour",
            )
        ]

    def __str__(self) -> str:
        return f"{self.entity_id} {self.attribute} {self.hour}"


class AttributeDailyRollup(Rollup):
    """Daily sums beside the hourly ones: a year of data per day or month reads 365
    rows per attribute instead of 8,760."""

    day = models.DateTimeField()  # midnight UTC

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "entity_id", "attribute", "dataset_id", "day"],
                name="ngsild_rollup_unique_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.entity_id} {self.attribute} {self.day:%Y-%m-%d}"


class MappedSource(models.Model):
    """An entity attribute whose history is a oneM2M container's contentInstances.

    The temporal API reads those instances where they are (``onem2m_resource``)
    rather than a copy: one copy of the history (docs/ngsi-ld.md).
    """

    tenant = models.CharField(max_length=64, default=DEFAULT_TENANT, blank=True)
    entity_id = models.CharField(max_length=512)
    attribute = models.CharField(max_length=512)
    container_ri = models.CharField(max_length=64)
    mapping = models.ForeignKey(DeviceMapping, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "entity_id", "attribute"], name="ngsild_mapped_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.entity_id} {self.attribute} <- {self.container_ri}"
