"""Pages of the open-data catalogue, mounted at /data/ (namespace ``catalogue``).

The list is a thin adapter over ``search``; a dataset's page shows its metadata, its
downloads and previews of its rows: a table (the page's content without JavaScript),
a map drawn in the browser from the GeoJSON download, and a chart drawn here as
inline SVG, so that it needs no script and screen readers get its data as a table.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.formats import number_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from alzette.territory.catalogue import search, services, sources, uploads, vocab
from alzette.territory.catalogue.forms import SearchForm, UploadForm
from alzette.territory.catalogue.models import Dataset

log = logging.getLogger(__name__)

PER_PAGE = 20
FACET_SHOWN = 8  # values listed before "more"
PREVIEW_ROWS = 50
SAMPLE_ROWS = 5000  # rows read for the chart: enough for its shape, bounded for the page
MAP_FEATURES = 2000
MAP_MAX_ROWS = 50_000  # above, the browser would download too much to draw a sample
MAX_BARS = 12
MAX_PERIODS = 24


def _language() -> str:
    return (get_language() or "fr").split("-")[0]


# --- The list ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FacetGroup:
    name: str
    legend: str
    shown: list[search.FacetValue]
    more: list[search.FacetValue]

    @property
    def more_open(self) -> bool:
        return any(value.selected for value in self.more)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(request, "catalogue/index.html", {"form": form, "invalid": True}, status=400)
    data = form.cleaned_data if form.is_bound else {}
    results = search.search(
        data.get("q", ""),
        form.filters() if form.is_bound else {},
        language=_language(),
        order=data.get("sort") or "title",
    )
    page = Paginator(results.hits, PER_PAGE).get_page(data.get("page"))
    page.object_list = search.load(list(page.object_list))
    return render(
        request,
        "catalogue/index.html",
        {
            "form": form,
            "page": page,
            "total": len(results.hits),
            "facets": _groups(form, results.facets),
            "active": _active(request.GET, results.facets),
            "query": _query(request.GET, without="page"),
        },
    )


def _groups(form: SearchForm, facets: dict[str, list[search.FacetValue]]) -> list[FacetGroup]:
    groups = []
    for name in search.FACETS:
        values = facets.get(name, [])
        shown = values[:FACET_SHOWN]
        groups.append(FacetGroup(name, str(form.fields[name].label), shown, values[FACET_SHOWN:]))
    return [group for group in groups if group.shown]


def _active(params: QueryDict, facets: dict[str, list[search.FacetValue]]) -> list[dict]:
    """The filters applied, each with the address of the same search without it."""
    active = []
    for name in search.FACETS:
        for value in facets.get(name, []):
            if value.selected:
                remove = _query(params, without=name, value=value.value)
                active.append({"label": value.label, "remove": f"?{remove}"})
    return active


def _query(params: QueryDict, without: str, value: str | None = None) -> str:
    """``params`` url-encoded without ``without`` (one value of it if given) and a page."""
    kept = params.copy()
    kept.pop("page", None)
    if value is None:
        kept.pop(without, None)
    else:
        kept.setlist(without, [v for v in kept.getlist(without) if v != value])
    return kept.urlencode()


# --- A dataset ---------------------------------------------------------------------------


@require_GET
def detail(request: HttpRequest, identifier: str) -> HttpResponse:
    found = services.visible().select_related("organisation").filter(identifier=identifier)
    dataset = found.first()
    if dataset is None:
        raise Http404(f"No open dataset {identifier!r}.")
    language = _language()
    preview = _preview(dataset)
    return render(
        request,
        "catalogue/detail.html",
        {
            "dataset": dataset,
            "title": dataset.text("title", language),
            "description": dataset.text("description", language),
            "licence": vocab.LICENCES.get(dataset.licence),
            "themes": [(code, vocab.THEMES.get(code, code)) for code in dataset.themes],
            "communes": _communes(dataset.communes),
            "frequency": vocab.FREQUENCIES.get(dataset.frequency, dataset.frequency),
            "contact": dataset.contact_email or dataset.organisation.contact_email,
            "downloads": _downloads(dataset),
            "preview": preview,
            "map": _map(dataset),
            "may_upload": _may_upload(request, dataset),
        },
    )


def _may_upload(request: HttpRequest, dataset: Dataset) -> bool:
    from alzette.territory.partners import authz

    if dataset.source != sources.UploadedFile.key:
        return False
    return authz.acts_for(authz.actor_of(request.user), dataset.organisation)


def _communes(codes: list[str]) -> list[tuple[str, str]]:
    names = search.commune_names(codes) if codes else {}
    return [(code, names.get(code, code)) for code in codes]


def _downloads(dataset: Dataset) -> list[dict[str, str]]:
    try:
        found = services.distributions(dataset)
    except sources.SourceError:  # a source no longer installed: nothing to download
        return []
    return [
        {"format": search.FORMAT_LABELS.get(d.format, d.format), "path": d.path,
         "media_type": d.media_type, "key": d.format}
        for d in found
    ]  # fmt: skip


def _map(dataset: Dataset) -> dict[str, Any] | None:
    if dataset.source not in sources.registry() or not services.is_spatial(dataset):
        return None
    geojson = next((d for d in _downloads(dataset) if d["key"] == "geojson"), None)
    if geojson is None:
        return None
    too_large = (dataset.row_count or 0) > MAP_MAX_ROWS
    return {"url": geojson["path"], "limit": MAP_FEATURES, "too_large": too_large,
            "extent": dataset.extent}  # fmt: skip


@dataclass
class Preview:
    columns: list[sources.Field] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    complete: bool = True  # every row was read for the chart
    chart: Chart | None = None
    failed: bool = False


def _preview(dataset: Dataset) -> Preview:
    try:
        columns = services.fields(dataset)
        sample = _sample(services.records(dataset), SAMPLE_ROWS + 1)
    except Exception:  # a live source may fail in any way; the page must still show
        log.warning("catalogue preview of %s failed", dataset.identifier, exc_info=True)
        return Preview(failed=True)
    complete = len(sample) <= SAMPLE_ROWS
    sample = sample[:SAMPLE_ROWS]
    rows = [[sources.cell(values.get(c.name)) for c in columns] for values in sample[:PREVIEW_ROWS]]
    return Preview(columns, rows, complete, chart_of(columns, sample))


def _sample(records: Iterable[sources.Record], limit: int) -> list[dict[str, Any]]:
    try:
        return [record.values for record in islice(records, limit)]
    finally:
        close = getattr(records, "close", None)
        if close is not None:  # free the source's database cursor now
            close()


# --- The chart ---------------------------------------------------------------------------

_PERIOD = re.compile(r"^[0-9]{4}(-[0-9]{2})?")
BAR_ROW = 44  # pixels per bar: its label above, the bar, its value


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    display: str
    percent: float  # length, as a share of the drawing's width
    y: int

    # SVG attributes, written here so that the template's number localisation
    # (a decimal comma in French) cannot break them.
    @property
    def width(self) -> str:
        return f"{max(self.percent, 0.5)}%"

    @property
    def value_x(self) -> str:
        return f"{self.percent}%"


@dataclass(frozen=True)
class Chart:
    title: str
    category: str  # header of the labels' column in the data table
    measure: str  # header of the values' column
    bars: list[Bar]

    @property
    def height(self) -> int:
        return len(self.bars) * BAR_ROW + 4


def chart_of(columns: list[sources.Field], sample: list[dict[str, Any]]) -> Chart | None:
    """The most telling chart of the rows, if any: a sum per period for a number over
    time, else rows per category, else the distribution of a number, else rows per
    period."""
    if not sample:
        return None
    numbers = [c.name for c in columns if c.type in ("integer", "number") and _numeric(sample, c)]
    periods = [c.name for c in columns if _is_period(sample, c)]
    category = _category(columns, sample)
    if numbers and periods:
        return _per_period(sample, periods[0], numbers[0])
    if category:
        return _per_category(sample, category)
    if numbers:
        return _histogram(sample, numbers[0])
    if periods:
        return _per_period(sample, periods[0], None)
    return None


def _values(sample: list[dict[str, Any]], name: str) -> list[Any]:
    return [row.get(name) for row in sample if row.get(name) not in (None, "")]


def _numeric(sample: list[dict[str, Any]], column: sources.Field) -> bool:
    values = _values(sample, column.name)
    return bool(values) and all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
    )


def _is_period(sample: list[dict[str, Any]], column: sources.Field) -> bool:
    if column.type not in ("date", "datetime", "string"):
        return False
    values = _values(sample, column.name)
    if not values or not all(isinstance(v, str) and _PERIOD.match(v) for v in values):
        return False
    return column.type != "string" or column.name.lower() in ("month", "year", "period", "date")


def _category(columns: list[sources.Field], sample: list[dict[str, Any]]) -> str | None:
    """The text column that groups rows best: between 2 and MAX_BARS values preferred
    (the more the better), then up to 30 (the rest grouped), then a single value."""
    best, best_rank = None, None
    for column in columns:
        if column.name == "id" or column.type not in ("string", "array"):
            continue
        if _is_period(sample, column):
            continue
        counts = _category_counts(sample, column.name)
        distinct = len(counts)
        if not distinct or distinct > 30 or (distinct == len(sample) and distinct > 1):
            continue  # nothing, too scattered, or an identifier
        rank = _rank(distinct)
        if best_rank is None or rank < best_rank:
            best, best_rank = column.name, rank
    return best


def _rank(distinct: int) -> tuple[int, int]:
    if 2 <= distinct <= MAX_BARS:
        return (0, -distinct)
    return (1 if distinct > 1 else 2, distinct)


def _category_counts(sample: list[dict[str, Any]], name: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for value in _values(sample, name):
        items = value if isinstance(value, list) else [value]
        counts.update(sources.cell(item) for item in items if item not in (None, ""))
    return counts


def _per_category(sample: list[dict[str, Any]], name: str) -> Chart:
    counts = _category_counts(sample, name).most_common()
    top = counts[:MAX_BARS]
    rest = sum(count for _label, count in counts[MAX_BARS:])
    if rest:
        top.append((_("Others"), rest))
    return Chart(_("Rows per %(column)s") % {"column": name}, name, _("Rows"), _bars(top))


def _per_period(sample: list[dict[str, Any]], period: str, number: str | None) -> Chart:
    totals: Counter[str] = Counter()
    for row in sample:
        moment = row.get(period)
        if isinstance(moment, str) and _PERIOD.match(moment):
            value = row.get(number) if number else 1
            if isinstance(value, int | float) and not isinstance(value, bool):
                totals[moment[:7]] += value
    items = sorted(totals.items())[-MAX_PERIODS:]
    if number is None:
        title = _("Rows per %(period)s") % {"period": period}
        return Chart(title, period, _("Rows"), _bars(items))
    names = {"measure": number, "period": period}
    title = _("Sum of %(measure)s per %(period)s") % names
    return Chart(title, period, _("Sum of %(measure)s") % names, _bars(items))


def _histogram(sample: list[dict[str, Any]], name: str, bins: int = 8) -> Chart:
    values = [float(v) for v in _values(sample, name)]
    low, high = min(values), max(values)
    width = (high - low) / bins or 1.0
    counts = [0] * (bins if high > low else 1)
    for value in values:
        counts[min(int((value - low) / width), len(counts) - 1)] += 1
    items = [
        (f"{_number(low + n * width)} \N{EN DASH} {_number(low + (n + 1) * width)}", count)
        for n, count in enumerate(counts)
    ]
    if high == low:
        items = [(_number(low), counts[0])]
    title = _("Distribution of %(column)s") % {"column": name}
    return Chart(title, name, _("Rows"), _bars(items))


def _bars(items: list[tuple[str, float]]) -> list[Bar]:
    top = max((value for _label, value in items), default=0) or 1
    # The longest bar takes 85% of the width, leaving room for its value after it.
    return [
        Bar(label, value, _number(value), round(85 * value / top, 2), n * BAR_ROW)
        for n, (label, value) in enumerate(items)
    ]


def _number(value: float) -> str:
    rounded = round(value, 2)
    if float(rounded).is_integer():
        rounded = int(rounded)
    return number_format(rounded, force_grouping=True)


# --- Uploading a new file (the dataset's publisher) ---------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest, identifier: str) -> HttpResponse:
    """A new file for a dataset of uploaded files: checked against its national schema;
    a refused file is explained row by row and the previous one stays."""
    from alzette.territory.partners import authz

    actor = authz.actor_of(request.user)
    found = Dataset.objects.using(services.DB).select_related("organisation")
    dataset = found.filter(identifier=identifier).first()
    if dataset is None or not authz.acts_for(actor, dataset.organisation):
        raise Http404(f"No dataset {identifier!r} of yours.")
    if dataset.source != sources.UploadedFile.key:
        raise Http404(f"{identifier!r} is not made of uploaded files.")
    form = UploadForm(request.POST or None, request.FILES or None)
    problems: list[dict[str, Any]] = []
    if request.method == "POST" and form.is_valid():
        sent = form.cleaned_data["file"]
        try:
            stored = services.upload(dataset, sent.name, sent, actor=actor.ref)
        except uploads.InvalidFile as exc:
            problems = exc.problems
            form.add_error("file", exc.messages[0])
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            messages.success(request, _("The file is published: %(rows)d rows.")
                             % {"rows": stored.row_count})  # fmt: skip
            return redirect("catalogue:upload", identifier=dataset.identifier)
    current = sources.get(dataset.source).current(dataset)
    return render(request, "catalogue/upload.html", {
        "dataset": dataset, "title": dataset.text("title", _language()), "form": form,
        "problems": problems[:100], "more": max(0, len(problems) - 100), "current": current,
        "schema": dataset.source_options.get("schema", ""),
    }, status=400 if request.method == "POST" else 200)  # fmt: skip
