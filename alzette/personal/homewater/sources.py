"""What "my data" shows of a household's water, and what goes with an erased account.

Registered by ``HomewaterConfig.ready``: the meters of the person's households, the
readings, the daily use and the warnings. Everything here belongs to a household:
when the last member's account is erased, ``households.sources.forget_lone_households``
deletes the household and all of this cascades with it (a shared household stays
with its other members).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from alzette.personal.homewater.models import DailyUse, MeterAllocation, Reading, Warning
from alzette.personal.households.models import Household


def _mine(user: Any) -> Any:
    return Household.objects.filter(members=user)


def meters(user: Any) -> list[dict[str, Any]]:
    return [
        {"serial": a.serial, "starts_on": a.starts_on, "ends_on": a.ends_on, "persons": a.persons}
        for a in MeterAllocation.objects.filter(household__in=_mine(user))
    ]


def readings(user: Any) -> list[dict[str, Any]]:
    return [
        {"at": r.at, "serial": r.serial, "index_litres": r.index_litres, "litres": r.litres}
        for r in Reading.objects.filter(household__in=_mine(user)).order_by("at").iterator(2000)
    ]


def daily_use(user: Any) -> list[dict[str, Any]]:
    return [
        {"day": d.day, "litres": d.litres, "hours_with_use": d.hours_with_use}
        for d in DailyUse.objects.filter(household__in=_mine(user)).order_by("day")
    ]


def warnings(user: Any) -> list[dict[str, Any]]:
    return [
        {
            "kind": w.kind,
            "started_at": w.started_at,
            "ended_at": w.ended_at,
            "notified_at": w.notified_at,
            "seen_at": w.seen_at,
        }
        for w in Warning.objects.filter(household__in=_mine(user)).order_by("started_at")
    ]


def data_sources() -> dict[str, Any]:
    from alzette.personal.homewater.models import WarningKind
    from alzette.personal.mydata.services import DataSource

    here = "alzette.personal.homewater.sources"
    return {
        "water_meters": DataSource(
            f"{here}.meters",
            _("Water meters"),
            {
                "serial": _("Meter"),
                "starts_on": _("From"),
                "ends_on": _("Until (excluded)"),
                "persons": _("Persons"),
            },
            _("The water meters your household holds or held."),
        ),
        "water_readings": DataSource(
            f"{here}.readings",
            _("Water meter readings"),
            {
                "at": _("At"),
                "serial": _("Meter"),
                "index_litres": _("Index (L)"),
                "litres": _("Litres used in the hour"),
            },
            _("Your meter's hourly readings (kept for a limited time, see the water page)."),
        ),
        "water_daily_use": DataSource(
            f"{here}.daily_use",
            _("Daily water use"),
            {"day": _("Day"), "litres": _("Litres"), "hours_with_use": _("Hours with use")},
            _("Your household's water use per day."),
        ),
        "water_warnings": DataSource(
            f"{here}.warnings",
            _("Water warnings"),
            {
                "kind": _("Kind"),
                "started_at": _("Started"),
                "ended_at": _("Ended"),
                "notified_at": _("Notified"),
                "seen_at": _("Seen"),
            },
            _("Possible leaks and abnormal use your household was warned of."),
            value_labels={"kind": dict(WarningKind.choices)},
        ),
    }
