"""Lighting policies and calendar overrides: validation, conflicts, the ledger, and
sun-based steps across midnight and the changes of time (2026-10-25, 2027-03-28)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from alzette.territory.lighting import policies, schedule, sun
from alzette.territory.lighting.authz import PLATFORM, Actor, NotAllowed
from alzette.territory.lighting.models import CalendarOverride, LedgerRecord, Policy
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
DB = "territory"
AUDUN, VILLERUPT = "57038", "54580"
AGENT_AUDUN = Actor(agent=True, commune=AUDUN, ref="ab" * 16)
AGENT_VILLERUPT = Actor(agent=True, commune=VILLERUPT, ref="cd" * 16)
STANDARD = [
    {"at": "sunset", "offset": 0, "level": 1.0},
    {"at": "23:00", "offset": 0, "level": 0.5},
    {"at": "01:00", "offset": 0, "level": 0.0},
    {"at": "05:00", "offset": 0, "level": 0.5},
    {"at": "sunrise", "offset": 0, "level": 0.0},
]


# --- Helpers shared by the lighting test modules -------------------------------------------


def make_group(commune: str, slug: str, count: int = 2, first: int = 1) -> tuple[str, list[str]]:
    """A StreetlightGroup and its lamps in the context (Smart Data Models context)."""
    from alzette.territory.lighting.demo import context
    from alzette.territory.ngsild import entities

    op = entities.Op(tenant="", ctx=context())
    group = f"urn:ngsi-ld:StreetlightGroup:{commune}-{slug}"
    point = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [5.95, 49.47]}}
    lamps = [f"urn:ngsi-ld:Streetlight:streetlight-{commune}-{n:03d}"
             for n in range(first, first + count)]  # fmt: skip
    for lamp in lamps:
        entities.create(op, {"id": lamp, "type": "Streetlight", "location": point,
                             "status": {"type": "Property", "value": "ok"},
                             "powerRating": {"type": "Property", "value": 50.0},
                             "refStreetlightGroup": {"type": "Relationship",
                                                     "object": group}})  # fmt: skip
    entities.create(op, {"id": group, "type": "StreetlightGroup", "location": point,
                         "refStreetlight": {"type": "Relationship", "object": lamps}})  # fmt: skip
    return group, lamps


def policy_data(**extra) -> dict:
    return {"name": "Programme", "commune": AUDUN, "groups": [], "priority": 0, "enabled": True,
            "steps": STANDARD, **extra}  # fmt: skip


def override_data(**extra) -> dict:
    return {"commune": AUDUN, "groups": [], "start": datetime(2026, 12, 4, 16, tzinfo=UTC),
            "end": datetime(2026, 12, 4, 22, tzinfo=UTC), "level": 1.0,
            "reason": "Marché de Noël", **extra}  # fmt: skip


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


# --- Validation -----------------------------------------------------------------------------


def test_a_valid_policy_is_saved_and_recorded(territory):
    policy = policies.save_policy(AGENT_AUDUN, policy_data())
    assert policy.steps == STANDARD and policy.created_by == "ab" * 16
    record = LedgerRecord.objects.using(DB).get()
    assert (record.kind, record.object_ref) == (
        "lighting_policy.changed",
        f"lighting_policy:{policy.pk}",
    )
    assert record.payload["action"] == "created" and record.payload["steps"] == STANDARD


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        ([], "steps"),
        ([{"at": "noon", "level": 1}], "steps.0.at"),
        ([{"at": "25:00", "level": 1}], "steps.0.at"),
        ([{"at": "sunset", "level": 1.5}], "steps.0.level"),
        ([{"at": "sunset", "level": -0.1}], "steps.0.level"),
        ([{"at": "sunset", "level": True}], "steps.0.level"),
        ([{"at": "sunset", "level": "half"}], "steps.0.level"),
        ([{"at": "sunset", "offset": 1000, "level": 1}], "steps.0.offset"),
        ([{"at": "sunset", "offset": 2.5, "level": 1}], "steps.0.offset"),
        (["sunset"], "steps.0"),
        ([{"at": "sunset", "level": 1}] * 13, "steps"),
    ],
)
def test_bad_steps_are_refused_by_field(territory, steps, field):
    with pytest.raises(ValidationError) as excinfo:
        policies.save_policy(AGENT_AUDUN, policy_data(steps=steps))
    assert field in errors_of(excinfo)
    assert not Policy.objects.using(DB).exists()


def test_steps_out_of_order_are_refused_naming_the_step(territory):
    steps = [{"at": "23:00", "level": 0.5}, {"at": "sunset", "level": 1.0}]
    with pytest.raises(ValidationError) as excinfo:
        policies.save_policy(AGENT_AUDUN, policy_data(steps=steps))
    [message] = errors_of(excinfo)["steps.1.at"]
    assert "2" in message and "23:00" in message
    # 21:00 comes before sunset in summer: refused for a year-round policy...
    summer = [{"at": "sunset", "level": 1.0}, {"at": "21:00", "level": 0.5},
              {"at": "sunrise", "level": 0.0}]  # fmt: skip
    with pytest.raises(ValidationError) as excinfo:
        policies.save_policy(AGENT_AUDUN, policy_data(steps=summer))
    assert "steps.1.at" in errors_of(excinfo)
    # ...but fine for a winter one.
    winter = policies.save_policy(AGENT_AUDUN, policy_data(
        steps=summer, valid_from=date(2026, 11, 1), valid_to=date(2027, 2, 28)))  # fmt: skip
    assert winter.valid_to == date(2027, 2, 28)


def test_other_fields_are_checked(territory):
    bad = policy_data(name="", commune="99999", priority=1000, weekdays=[7],
                      valid_from="2027-01-10", valid_to="2027-01-01", groups=["x"])  # fmt: skip
    with pytest.raises(ValidationError) as excinfo:
        policies.save_policy(PLATFORM, bad)
    assert {"name", "commune", "priority", "weekdays", "valid_to"} <= set(errors_of(excinfo))
    with pytest.raises(ValidationError) as excinfo:
        policies.save_policy(AGENT_AUDUN, policy_data(groups=["urn:ngsi-ld:StreetlightGroup:x"]))
    assert "groups" in errors_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        policies.save_policy(AGENT_AUDUN, policy_data(valid_from="4 July"))
    assert "valid_from" in errors_of(excinfo)


def test_agents_change_only_their_commune(territory):
    with pytest.raises(NotAllowed):
        policies.save_policy(AGENT_VILLERUPT, policy_data())
    policy = policies.save_policy(AGENT_AUDUN, policy_data())
    with pytest.raises(NotAllowed):
        policies.set_enabled(AGENT_VILLERUPT, policy, False)
    with pytest.raises(NotAllowed):  # nor move it to their own
        policies.save_policy(AGENT_AUDUN, {"commune": VILLERUPT}, policy)
    with pytest.raises(NotAllowed):
        policies.delete_policy(AGENT_VILLERUPT, policy)
    assert policies.save_policy(PLATFORM, {"priority": 3}, policy).priority == 3


# --- Conflicts ------------------------------------------------------------------------------


def test_equal_priority_overlapping_policies_conflict(territory):
    first = policies.save_policy(AGENT_AUDUN, policy_data(name="Standard"))
    with pytest.raises(policies.Conflict) as excinfo:
        policies.save_policy(AGENT_AUDUN, policy_data(name="Other"))
    assert excinfo.value.other == first and "Standard" in excinfo.value.message
    assert excinfo.value.other_ref == f"policy:{first.pk}"
    assert Policy.objects.using(DB).count() == 1
    # A higher priority, another commune, or a disabled policy: no conflict.
    policies.save_policy(AGENT_AUDUN, policy_data(name="Higher", priority=5))
    policies.save_policy(PLATFORM, policy_data(name="Villerupt", commune=VILLERUPT))
    idle = policies.save_policy(AGENT_AUDUN, policy_data(name="Idle", enabled=False))
    with pytest.raises(policies.Conflict):
        policies.set_enabled(AGENT_AUDUN, idle, True)
    assert not Policy.objects.using(DB).get(pk=idle.pk).enabled


def test_groups_dates_and_weekdays_decide_overlaps(territory):
    grand_rue, _ = make_group(AUDUN, "grand-rue")
    gare, _ = make_group(AUDUN, "rue-de-la-gare", first=3)
    policies.save_policy(AGENT_AUDUN, policy_data(name="Grand-Rue", groups=[grand_rue]))
    policies.save_policy(AGENT_AUDUN, policy_data(name="Gare", groups=[gare]))
    with pytest.raises(policies.Conflict) as excinfo:  # the whole commune meets both
        policies.save_policy(AGENT_AUDUN, policy_data(name="All"))
    assert "Grand-Rue" in excinfo.value.message
    weekend = policy_data(name="Weekend", priority=1, weekdays=[4, 5])
    policies.save_policy(AGENT_AUDUN, weekend)
    policies.save_policy(
        AGENT_AUDUN, policy_data(name="Week", priority=1, weekdays=[0, 1, 2, 3, 6])
    )
    with pytest.raises(policies.Conflict):
        policies.save_policy(AGENT_AUDUN, policy_data(name="Saturday", priority=1, weekdays=[5]))
    # Dated: December 2026 and January 2027 do not meet; a Monday-only policy over a
    # Friday-to-Saturday span meets no Monday.
    policies.save_policy(
        AGENT_AUDUN,
        policy_data(
            name="Dec", priority=2, valid_from=date(2026, 12, 1), valid_to=date(2026, 12, 31)
        ),
    )
    policies.save_policy(
        AGENT_AUDUN,
        policy_data(
            name="Jan", priority=2, valid_from=date(2027, 1, 1), valid_to=date(2027, 1, 31)
        ),
    )
    policies.save_policy(
        AGENT_AUDUN,
        policy_data(
            name="Fri-Sat", priority=3, valid_from=date(2026, 12, 4), valid_to=date(2026, 12, 5)
        ),
    )
    policies.save_policy(AGENT_AUDUN, policy_data(
        name="Mondays", priority=3, weekdays=[0], valid_from=date(2026, 12, 1),
        valid_to=date(2026, 12, 6)))  # fmt: skip
    with pytest.raises(policies.Conflict):
        policies.save_policy(AGENT_AUDUN, policy_data(
            name="Christmas", priority=2, valid_from=date(2026, 12, 24),
            valid_to=date(2027, 1, 2)))  # fmt: skip


def test_overlapping_overrides_conflict(territory):
    grand_rue, _ = make_group(AUDUN, "grand-rue")
    gare, _ = make_group(AUDUN, "rue-de-la-gare", first=3)
    market = policies.save_override(AGENT_AUDUN, override_data(groups=[grand_rue]))
    assert market.created_by == "ab" * 16
    with pytest.raises(policies.Conflict) as excinfo:
        policies.save_override(AGENT_AUDUN, override_data(reason="14 juillet",
                                         start=datetime(2026, 12, 4, 21, tzinfo=UTC)))  # fmt: skip
    assert "Marché de Noël" in excinfo.value.message
    assert excinfo.value.other_ref == f"override:{market.pk}"
    # Another street, right after, or another commune: fine.
    policies.save_override(AGENT_AUDUN, override_data(groups=[gare]))
    policies.save_override(AGENT_AUDUN, override_data(start=datetime(2026, 12, 4, 22, tzinfo=UTC),
                                         end=datetime(2026, 12, 5, 1, tzinfo=UTC)))  # fmt: skip
    policies.save_override(PLATFORM, override_data(commune=VILLERUPT))
    assert CalendarOverride.objects.using(DB).count() == 4
    kinds = set(LedgerRecord.objects.using(DB).values_list("kind", flat=True))
    assert kinds == {"lighting_override.changed"}


def test_bad_overrides_are_refused_by_field(territory):
    villerupt = policies.save_policy(PLATFORM, policy_data(commune=VILLERUPT))
    cases = [
        (override_data(end=datetime(2026, 12, 4, 15, tzinfo=UTC)), "end"),
        (override_data(end=datetime(2027, 3, 1, tzinfo=UTC)), "end"),
        (override_data(level=None), "level"),
        (override_data(level=2), "level"),
        (override_data(policy=villerupt.pk), "policy"),
        (override_data(level=None, policy=villerupt.pk), "policy"),
        (override_data(level=None, policy=9999), "policy"),
        (override_data(reason=" "), "reason"),
        (override_data(start="tomorrow"), "start"),
        (override_data(groups=["urn:ngsi-ld:StreetlightGroup:57038-nowhere"]), "groups"),
    ]
    for data, field in cases:
        with pytest.raises(ValidationError) as excinfo:
            policies.save_override(AGENT_AUDUN, data)
        assert field in errors_of(excinfo), (data, errors_of(excinfo))
    with pytest.raises(NotAllowed):
        policies.save_override(AGENT_VILLERUPT, override_data())
    assert not CalendarOverride.objects.using(DB).exists()


def test_a_naive_time_is_local(territory):
    override = policies.save_override(AGENT_AUDUN, override_data(
        start="2026-12-04T16:00", end="2026-12-04T23:00"))  # fmt: skip
    assert override.start == datetime(2026, 12, 4, 15, tzinfo=UTC)


def test_a_followed_policy_cannot_be_deleted(territory):
    festive = policies.save_policy(AGENT_AUDUN, policy_data(name="Festif", enabled=False))
    market = policies.save_override(AGENT_AUDUN, override_data(level=None, policy=festive.pk))
    with pytest.raises(policies.InUse) as excinfo:
        policies.delete_policy(AGENT_AUDUN, festive)
    assert "Marché de Noël" in excinfo.value.message
    policies.delete_override(AGENT_AUDUN, market)
    policies.delete_policy(AGENT_AUDUN, festive)
    actions = [r.payload["action"] for r in LedgerRecord.objects.using(DB).order_by("pk")]
    assert actions == ["created", "created", "deleted", "deleted"]


def test_disable_and_enable_are_recorded(territory):
    policy = policies.save_policy(AGENT_AUDUN, policy_data())
    policies.set_enabled(AGENT_AUDUN, policy, False)
    policies.set_enabled(AGENT_AUDUN, policy, False)  # no change, no entry
    policies.set_enabled(AGENT_AUDUN, policy, True)
    actions = [r.payload["action"] for r in LedgerRecord.objects.using(DB).order_by("pk")]
    assert actions == ["created", "disabled", "enabled"]


# --- Sun-based steps, midnight and the changes of time ----------------------------------------


def _segments(steps, night, commune=AUDUN):
    point = schedule.commune_point(commune)
    return schedule.policy_segments(steps, night, point), point


def test_sunset_steps_and_midnight(territory):
    night = date(2026, 12, 4)
    segments, point = _segments(STANDARD, night)
    on = [s for s in segments if s[2] == 1.0]
    assert on[0][0] == sun.sunset(night, *point)
    # 23:00 local is 22:00 UTC in winter; 01:00 the next day is 00:00 UTC.
    levels = [(s[0], s[2]) for s in segments]
    assert (datetime(2026, 12, 4, 22, tzinfo=UTC), 0.5) in levels
    assert (datetime(2026, 12, 5, 0, tzinfo=UTC), 0.0) in levels
    assert (datetime(2026, 12, 5, 4, tzinfo=UTC), 0.5) in levels
    assert (sun.sunrise(night + timedelta(days=1), *point), 0.0) in levels
    # Offsets move the steps: on 15 minutes after sunset, off 10 minutes before sunrise.
    shifted = [{"at": "sunset", "offset": 15, "level": 1.0},
               {"at": "sunrise", "offset": -10, "level": 0.0}]  # fmt: skip
    segments, _ = _segments(shifted, night)
    [lit] = [s for s in segments if s[2] == 1.0]
    assert lit[0] == sun.sunset(night, *point) + timedelta(minutes=15)
    assert lit[1] == sun.sunrise(night + timedelta(days=1), *point) - timedelta(minutes=10)


def test_lamps_are_off_outside_the_night():
    # A clock time before sunset in winter does not light the lamps by day.
    steps = [{"at": "15:00", "offset": 0, "level": 1.0}, {"at": "sunrise", "offset": 0, "level": 0}]
    night = date(2026, 12, 4)
    point = sun.territory_point()
    segments = schedule.policy_segments(steps, night, point)
    [lit] = [s for s in segments if s[2] == 1.0]
    assert lit[0] == sun.sunset(night, *point)
    # A negative sunset offset widens the night.
    early = [{"at": "sunset", "offset": -30, "level": 1.0}, {"at": "sunrise", "level": 0}]
    [lit] = [s for s in schedule.policy_segments(early, night, point) if s[2] == 1.0]
    assert lit[0] == sun.sunset(night, *point) - timedelta(minutes=30)


def test_the_night_the_clocks_go_back(territory):
    # Night of Saturday 2026-10-24: clocks go back from 03:00 CEST to 02:00 CET.
    night = date(2026, 10, 24)
    segments, point = _segments(STANDARD, night)
    off = [s for s in segments if s[2] == 0.0 and s[0] > sun.sunset(night, *point)
           and s[1] < sun.sunrise(night + timedelta(days=1), *point)]  # fmt: skip
    [(start, end, _)] = off
    assert start == datetime(2026, 10, 24, 23, tzinfo=UTC)  # 01:00 CEST
    assert end == datetime(2026, 10, 25, 4, tzinfo=UTC)  # 05:00 CET
    assert end - start == timedelta(hours=5)
    # Sunset moves by minutes in UTC from one evening to the next, by an hour on the clock.
    before, after = sun.sunset(night, *point), sun.sunset(night + timedelta(days=1), *point)
    assert timedelta(0) < before + timedelta(days=1) - after < timedelta(minutes=5)
    zone = schedule.zone()
    assert before.astimezone(zone).hour - after.astimezone(zone).hour == 1
    # 23:00 is 21:00 UTC on the Saturday, 22:00 UTC on the Sunday.
    sunday, _ = _segments(STANDARD, night + timedelta(days=1))
    assert any(s[0] == datetime(2026, 10, 25, 22, tzinfo=UTC) and s[2] == 0.5 for s in sunday)
    assert any(s[0] == datetime(2026, 10, 24, 21, tzinfo=UTC) and s[2] == 0.5 for s in segments)


def test_the_night_the_clocks_go_forward(territory):
    # Night of Saturday 2027-03-27: clocks go forward from 02:00 CET to 03:00 CEST.
    night = date(2027, 3, 27)
    segments, _point = _segments(STANDARD, night)
    start_off = next(s for s in segments if s[0] == datetime(2027, 3, 28, 0, tzinfo=UTC))
    assert start_off[2] == 0.0 and start_off[1] == datetime(2027, 3, 28, 3, tzinfo=UTC)
    # A step at 02:30, a time that does not exist that night, takes effect at 03:30 CEST.
    skipped = [{"at": "sunset", "level": 1.0}, {"at": "02:30", "level": 0.3},
               {"at": "sunrise", "level": 0.0}]  # fmt: skip
    segments, _ = _segments(skipped, night)
    assert any(s[0] == datetime(2027, 3, 28, 1, 30, tzinfo=UTC) and s[2] == 0.3 for s in segments)
    # The nights of the whole year keep their steps in order.
    policies.save_policy(AGENT_AUDUN, policy_data(steps=skipped))
