"""The boards' widgets: dotted paths of ``Widget`` subclasses, in the "add" list's order.

A widget is a small class: a slug, a translated title, a theme (one of the map's
``layers.THEMES``), a template, the options an agent may choose (``choices``:
option name -> allowed values) and ``context(request, options)``. To add one,
copy a sibling below (or write it in your own app) and add its dotted path to
``HYPERVISION_WIDGETS`` or the setting ``ALZETTE_HYPERVISION_WIDGETS``. A path
that does not import, a class that is not a ``Widget``, a bad or duplicate slug,
an unknown theme or a missing template raise ``ImproperlyConfigured`` (system
check ``hypervision.E002``).

Widgets show real figures from the territory's stores; a source that is not
installed gives an empty widget saying so, never invented numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, ClassVar

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Avg, Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from alzette.territory.hypervision import charts, layers

DB = "territory"

HYPERVISION_WIDGETS: list[str] = [
    "alzette.territory.hypervision.widgets.KeyFiguresWidget",
    "alzette.territory.hypervision.widgets.FillLevelChartWidget",
    "alzette.territory.hypervision.widgets.LiftsChartWidget",
    "alzette.territory.hypervision.widgets.AlertsChartWidget",
    "alzette.territory.hypervision.widgets.EventsChartWidget",
    "alzette.territory.lighting.energy.widgets.EnergySavedWidget",
]

DAYS = ("7", "14", "30")


class Widget:
    """Base class of the boards' widgets. Subclass it and set the class attributes."""

    #: Stable identifier stored in the boards: never rename it.
    slug: ClassVar[str] = ""
    title: ClassVar[Any] = ""
    description: ClassVar[Any] = ""
    theme: ClassVar[str] = ""
    template_name: ClassVar[str] = ""
    #: Options an agent picks when adding the widget: name -> allowed values (the
    #: first is the default). Labels come from ``option_label``.
    choices: ClassVar[dict[str, tuple[str, ...]]] = {}

    def clean_options(self, data: Mapping[str, Any]) -> dict[str, str]:
        """The options kept from ``data``: allowed values only, defaults otherwise."""
        return {
            name: str(data.get(name)) if str(data.get(name)) in allowed else allowed[0]
            for name, allowed in self.choices.items()
        }

    def option_label(self, name: str, value: str) -> str:
        return str(value)

    def context(self, request: Any, options: dict[str, str]) -> dict[str, Any]:
        """Template context of the widget with ``options`` (already cleaned)."""
        return {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.slug!r}>"


def _model(label: str, name: str) -> Any:
    try:
        return apps.get_model(label, name)
    except LookupError:
        return None


def _days(options: dict[str, str]) -> list[date]:
    count = int(options.get("days") or 14)
    today = timezone.localdate()  # agents count days as they live them, not in UTC
    return [today - timedelta(days=n) for n in range(count - 1, -1, -1)]


# --- Key figures --------------------------------------------------------------------------


class KeyFiguresWidget(Widget):
    """Counts per theme: devices per layer; for waste the mean fill and the bins
    over 80 %; active alerts; open events (illegal dumps)."""

    slug = "key-figures"
    title = _("Key figures")
    description = _("Devices, fill levels, active alerts and open events of a theme.")
    theme = "territory"
    template_name = "hypervision/widgets/key_figures.html"
    choices = {"theme": ("all", *layers.THEMES)}
    FULL = 0.8

    def option_label(self, name: str, value: str) -> str:
        return str(layers.THEMES.get(value, _("All themes")))

    def context(self, request: Any, options: dict[str, str]) -> dict[str, Any]:
        theme = "" if options.get("theme") == "all" else options.get("theme", "")
        figures: list[tuple[Any, Any]] = []
        for layer in layers.select(theme=theme):
            if isinstance(layer, layers.EntityLayer):
                figures.append((layer.title, layer.count()))
            if isinstance(layer, layers.EntityLayer) and layer.value_attribute == "fillingLevel":
                figures.extend(self._fill(layer))
        if theme in ("", "alerts"):
            figures.append((_("Active alerts"), self._alerts()))
        if theme in ("", "events", "waste"):
            figures.append((_("Open events (illegal dumps...)"), self._events()))
        return {"figures": figures, "theme": layers.THEMES.get(theme, _("All themes"))}

    def _fill(self, layer: layers.EntityLayer) -> list[tuple[Any, Any]]:
        from alzette.territory.ngsild.models import AttributeIndex

        rows = AttributeIndex.objects.using(DB).filter(
            layers._named("attribute", ["fillingLevel"]),
            entity_id__in=layer.entities().values("pk"),
            number__isnull=False,
        )
        found = rows.aggregate(
            mean=Avg("number"), full=Count("pk", filter=Q(number__gte=self.FULL))
        )
        mean = "-" if found["mean"] is None else f"{found['mean'] * 100:.0f} %"
        return [(_("Mean fill level"), mean), (_("Containers over 80 %"), found["full"])]

    def _alerts(self) -> int:
        model = _model("supervision", "Alert")
        if model is None:
            return 0
        return model.objects.using(DB).filter(state__in=("firing", "acknowledged")).count()

    def _events(self) -> int:
        from alzette.territory.events.models import TerritoryEvent

        return TerritoryEvent.objects.using(DB).filter(status="open").count()


# --- Time series --------------------------------------------------------------------------


class ChartWidget(Widget):
    """A value per day over the last ``days``; subclasses give ``per_day``."""

    template_name = "hypervision/widgets/chart.html"
    choices = {"days": ("14", "7", "30")}
    unit: ClassVar[Any] = ""
    decimals: ClassVar[int] = 0

    def option_label(self, name: str, value: str) -> str:
        return str(_("%(days)s days") % {"days": value})

    def per_day(self, first: date) -> dict[date, float] | None:
        """Values by day from ``first`` (None when the source is not installed)."""
        return {}

    def context(self, request: Any, options: dict[str, str]) -> dict[str, Any]:
        days = _days(options)
        found = self.per_day(days[0])
        points = [(day, (found or {}).get(day)) for day in days]
        return {
            "chart": charts.bars(points, decimals=self.decimals),
            "unit": self.unit,
            "missing": found is None,
            "days": len(days),
        }


def _by_day(rows: Any, moment: str) -> dict[date, float]:
    """Rows counted per local day of ``moment``."""
    counted = rows.annotate(day=TruncDate(moment, tzinfo=timezone.get_current_timezone()))
    counted = counted.values("day")
    return {r["day"]: float(r["n"]) for r in counted.annotate(n=Count("pk")).order_by("day")}


def _midnight(day: date) -> datetime:
    """The local start of ``day``."""
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


class FillLevelChartWidget(ChartWidget):
    """Mean fill level of the waste containers per day, from the NGSI-LD daily rollups."""

    slug = "waste-fill-chart"
    title = _("Mean fill level per day")
    description = _("Mean fill level of the waste containers, in percent, per day.")
    theme = "waste"
    unit = "%"

    def per_day(self, first: date) -> dict[date, float] | None:
        from alzette.territory.ngsild.models import AttributeDailyRollup

        # The rollups are kept per UTC day: near midnight the last local day may lag.
        start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
        rows = (
            AttributeDailyRollup.objects.using(DB)
            .filter(layers._named("attribute", ["fillingLevel"]), day__gte=start)
            .values("day")
            .annotate(total=Sum("total"), count=Sum("count"))
        )
        return {
            r["day"].astimezone(UTC).date(): 100 * r["total"] / r["count"]
            for r in rows
            if r["count"]
        }


class LiftsChartWidget(ChartWidget):
    """Bins lifted by the collection trucks per day (waste.Lift)."""

    slug = "waste-lifts-chart"
    title = _("Bin lifts per day")
    description = _("Household bins emptied by the collection trucks, per day.")
    theme = "waste"

    def per_day(self, first: date) -> dict[date, float] | None:
        model = _model("waste", "Lift")
        if model is None:
            return None
        return _by_day(model.objects.using(DB).filter(lifted_at__gte=_midnight(first)), "lifted_at")


class AlertsChartWidget(ChartWidget):
    """Alerts fired per day (supervision)."""

    slug = "alerts-chart"
    title = _("Alerts fired per day")
    description = _("Alerts fired by the supervision rules, per day.")
    theme = "alerts"

    def per_day(self, first: date) -> dict[date, float] | None:
        model = _model("supervision", "Alert")
        if model is None:
            return None
        return _by_day(model.objects.using(DB).filter(fired_at__gte=_midnight(first)), "fired_at")


class EventsChartWidget(ChartWidget):
    """Territory events (illegal dumps...) observed per day."""

    slug = "events-chart"
    title = _("Events reported per day")
    description = _("Events reported on the territory (illegal dumps...), per day.")
    theme = "events"

    def per_day(self, first: date) -> dict[date, float] | None:
        from alzette.territory.events.models import TerritoryEvent

        rows = (
            TerritoryEvent.objects.using(DB)
            .filter(observed_on__gte=first)
            .values("observed_on")
            .annotate(n=Count("pk"))
        )
        return {r["observed_on"]: float(r["n"]) for r in rows}


# --- The registry -------------------------------------------------------------------------


def widget_paths() -> tuple[str, ...]:
    return tuple(getattr(settings, "ALZETTE_HYPERVISION_WIDGETS", HYPERVISION_WIDGETS))


@lru_cache(maxsize=8)
def _load(paths: tuple[str, ...]) -> dict[str, Widget]:
    widgets: dict[str, Widget] = {}
    for path in paths:
        try:
            cls = import_string(path)
        except ImportError as exc:
            raise ImproperlyConfigured(f"Board widget {path!r} cannot be imported: {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, Widget)):
            raise ImproperlyConfigured(f"Board widget {path!r} is not a Widget subclass.")
        widget = cls()
        if not isinstance(widget.slug, str) or not layers.SLUG.fullmatch(widget.slug):
            raise ImproperlyConfigured(f"Board widget {path!r}: invalid slug {widget.slug!r}.")
        if widget.theme not in layers.THEMES:
            raise ImproperlyConfigured(f"Board widget {path!r}: unknown theme {widget.theme!r}.")
        if not str(widget.title) or not widget.template_name:
            raise ImproperlyConfigured(f"Board widget {path!r} needs a title and a template.")
        if widget.slug in widgets:
            raise ImproperlyConfigured(f"Board widget {path!r}: the slug {widget.slug!r} is taken.")
        widgets[widget.slug] = widget
    return widgets


def widgets() -> dict[str, Widget]:
    """Every registered widget by slug, in registry order."""
    return _load(widget_paths())


def reload() -> None:
    _load.cache_clear()
