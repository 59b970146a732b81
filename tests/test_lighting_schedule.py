"""What the schedule wants at chosen moments: default, policies by priority, validity,
calendar overrides; the plan over every lamp and the job handing it to the commands."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from alzette.territory.lighting import demo, policies, schedule
from alzette.territory.lighting.authz import PLATFORM
from tests.conftest import ALL_DATABASES
from tests.test_lighting_policies import AUDUN, STANDARD, make_group, override_data, policy_data

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
DB = "territory"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def streets(territory):
    grand_rue = make_group(AUDUN, "grand-rue", count=2, first=1)
    gare = make_group(AUDUN, "rue-de-la-gare", count=2, first=3)
    return grand_rue, gare


def test_the_default_is_on_while_dark(streets):
    (group, lamps), _ = streets
    night = schedule.level_at(lamps[0], utc(2026, 12, 4, 22))
    assert (night.level, night.source) == (1.0, "default")
    assert night.until is not None and night.until.date() == date(2026, 12, 5)  # sunrise
    day = schedule.level_at(group, utc(2026, 12, 5, 12))
    assert (day.level, day.source) == (0.0, "default")


@pytest.mark.parametrize(
    ("moment", "level"),
    [
        (utc(2026, 12, 4, 12), 0.0),  # 13:00, daylight
        (utc(2026, 12, 4, 17), 1.0),  # 18:00
        (utc(2026, 12, 4, 22, 30), 0.5),  # 23:30
        (utc(2026, 12, 5, 1), 0.0),  # 02:00, cut-off
        (utc(2026, 12, 5, 5), 0.5),  # 06:00, before sunrise
        (utc(2026, 12, 5, 8), 0.0),  # 09:00, after sunrise
    ],
)
def test_a_policy_across_the_night(streets, moment, level):
    (_group, lamps), _ = streets
    policy = policies.save_policy(PLATFORM, policy_data())
    planned = schedule.level_at(lamps[0], moment)
    assert (planned.level, planned.source) == (level, f"policy:{policy.pk}")


def test_until_says_when_the_level_changes(streets):
    (_group, lamps), _ = streets
    policies.save_policy(PLATFORM, policy_data())
    planned = schedule.level_at(lamps[0], utc(2026, 12, 4, 22, 30))
    assert planned.until == utc(2026, 12, 5, 0)  # the cut-off at 01:00


def test_priority_groups_and_validity(streets):
    (grand_rue, grand_lamps), (_gare, gare_lamps) = streets
    standard = policies.save_policy(PLATFORM, policy_data())
    bright = policies.save_policy(PLATFORM, policy_data(
        name="Grand-Rue", groups=[grand_rue], priority=5,
        steps=[{"at": "sunset", "level": 1.0}, {"at": "sunrise", "level": 0.0}]))  # fmt: skip
    at_two = utc(2026, 12, 5, 1)
    assert schedule.level_at(grand_lamps[0], at_two) == schedule.Planned(
        1.0, f"policy:{bright.pk}", schedule.level_at(grand_lamps[0], at_two).until
    )
    assert schedule.level_at(gare_lamps[0], at_two).source == f"policy:{standard.pk}"
    # A weekend policy: Saturday 02:00 belongs to Friday's night.
    weekend = policies.save_policy(PLATFORM, policy_data(
        name="Weekend", priority=10, weekdays=[4, 5],
        steps=[{"at": "sunset", "level": 0.8}, {"at": "sunrise", "level": 0.0}]))  # fmt: skip
    saturday_small_hours = utc(2026, 12, 5, 1)  # Friday night
    assert schedule.level_at(gare_lamps[0], saturday_small_hours).source == f"policy:{weekend.pk}"
    assert schedule.level_at(gare_lamps[0], saturday_small_hours).level == 0.8
    monday_small_hours = utc(2026, 12, 8, 1)  # Monday night
    assert schedule.level_at(gare_lamps[0], monday_small_hours).source == f"policy:{standard.pk}"
    # Disabled: not applied.
    policies.set_enabled(PLATFORM, weekend, False)
    assert schedule.level_at(gare_lamps[0], saturday_small_hours).source == f"policy:{standard.pk}"


def test_overrides_beat_policies(streets):
    (grand_rue, grand_lamps), (_gare, gare_lamps) = streets
    policies.save_policy(PLATFORM, policy_data())
    festive = policies.save_policy(PLATFORM, policy_data(
        name="Festif", enabled=False, steps=[{"at": "sunset", "offset": -30, "level": 1.0},
                                             {"at": "sunrise", "level": 0.0}]))  # fmt: skip
    market = policies.save_override(PLATFORM, override_data(
        groups=[grand_rue], start=utc(2026, 12, 4, 11), end=utc(2026, 12, 7, 11),
        level=None, policy=festive.pk))  # fmt: skip
    at_two = utc(2026, 12, 5, 1)
    assert (schedule.level_at(grand_lamps[0], at_two).level,
            schedule.level_at(grand_lamps[0], at_two).source) == (
        1.0, f"override:{market.pk}")  # fmt: skip
    assert schedule.level_at(gare_lamps[0], at_two).level == 0.0
    # The festive policy's levels hold at night only: by day the lamps stay off.
    assert schedule.level_at(grand_lamps[0], utc(2026, 12, 5, 12)).level == 0.0
    # A fixed level applies as given, by day too (a test of the lamps).
    works = policies.save_override(PLATFORM, override_data(
        groups=[], start=utc(2026, 12, 10, 9), end=utc(2026, 12, 10, 10), level=0.25,
        reason="Essai des lampes"))  # fmt: skip
    planned = schedule.level_at(gare_lamps[1], utc(2026, 12, 10, 9, 30))
    assert (planned.level, planned.source, planned.until) == (
        0.25,
        f"override:{works.pk}",
        utc(2026, 12, 10, 10),
    )


def test_timeline_of_a_commune_and_a_group(streets):
    (grand_rue, _), _ = streets
    policy = policies.save_policy(PLATFORM, policy_data())
    segments = schedule.timeline(AUDUN, date(2026, 12, 4))
    assert [s.level for s in segments] == [0.0, 1.0, 0.5, 0.0, 0.5, 0.0]
    assert {s.source for s in segments} == {f"policy:{policy.pk}"}
    assert segments[0].start == utc(2026, 12, 4, 11) and segments[-1].end == utc(2026, 12, 5, 11)
    policies.save_override(PLATFORM, override_data(groups=[grand_rue], start=utc(2026, 12, 4, 21),
                                                   end=utc(2026, 12, 4, 23)))  # fmt: skip
    segments = schedule.timeline(grand_rue, date(2026, 12, 4))
    assert [(s.start, s.level) for s in segments if s.source.startswith("override:")] == [
        (utc(2026, 12, 4, 21), 1.0)
    ]
    with pytest.raises(LookupError):
        schedule.timeline("urn:ngsi-ld:StreetlightGroup:57038-nowhere", date(2026, 12, 4))


def test_unknown_targets(streets):
    for unknown in ("urn:ngsi-ld:Streetlight:streetlight-57038-999", "12345", "anything",
                    "urn:ngsi-ld:StreetlightGroup:57038-nowhere"):  # fmt: skip
        with pytest.raises(LookupError):
            schedule.level_at(unknown)
    assert schedule.target_of(AUDUN) == schedule.Target("commune", AUDUN, AUDUN, None)


def test_plan_covers_every_lamp(streets):
    (grand_rue, grand_lamps), (_gare, gare_lamps) = streets
    policy = policies.save_policy(PLATFORM, policy_data())
    market = policies.save_override(PLATFORM, override_data(groups=[grand_rue]))
    plan = schedule.plan(utc(2026, 12, 4, 20))
    assert set(plan) == set(grand_lamps + gare_lamps)
    assert {plan[lamp].source for lamp in grand_lamps} == {f"override:{market.pk}"}
    assert {(plan[lamp].level, plan[lamp].source) for lamp in gare_lamps} == {
        (1.0, f"policy:{policy.pk}")
    }


def test_run_schedule_hands_the_plan_to_the_commands(streets, monkeypatch):
    (grand_rue, grand_lamps), (_gare, gare_lamps) = streets
    policy = policies.save_policy(PLATFORM, policy_data())
    market = policies.save_override(PLATFORM, override_data(groups=[grand_rue]))
    calls = []

    def apply_plan(plan, *, source, actor):
        calls.append((plan, source, actor))
        return ["sent"] * len(plan)

    from alzette.territory.lighting.commands import services as commands

    monkeypatch.setattr(commands, "apply_plan", apply_plan)
    summary = schedule.run_schedule(utc(2026, 12, 4, 20))
    [(plan, source, actor)] = calls
    assert actor == "system:lighting"
    assert plan == dict.fromkeys(grand_lamps + gare_lamps, 1.0)
    assert source == {**dict.fromkeys(grand_lamps, f"override:{market.pk}"),
                      **dict.fromkeys(gare_lamps, f"policy:{policy.pk}")}  # fmt: skip
    assert summary.startswith("4 lamps planned") and "4 commands sent" in summary


def test_run_schedule_without_lamps(monkeypatch):
    from alzette.territory.lighting.commands import services as commands

    monkeypatch.setattr(commands, "apply_plan", lambda *a, **k: pytest.fail("called"))
    assert schedule.run_schedule() == "no streetlight in the context"


def test_run_schedule_with_the_real_commands(streets):
    from alzette.territory.lighting.commands.models import Command

    policy = policies.save_policy(PLATFORM, policy_data(steps=STANDARD))
    schedule.run_schedule(utc(2026, 12, 4, 22, 30))
    commands = list(Command.objects.using(DB).all())
    # The lamps are not registered as devices: every command fails, with its source.
    assert len(commands) == 4 and {c.source for c in commands} == {f"policy:{policy.pk}"}
    assert {c.level for c in commands} == {0.5}
    # The same level again: nothing new is sent.
    schedule.run_schedule(utc(2026, 12, 4, 22, 31))
    assert Command.objects.using(DB).count() == 4


# --- The groups' own state -------------------------------------------------------------------


def group_body(group: str) -> dict:
    from alzette.territory.ngsild import store

    return store.get("", group).body


def history(group: str, term: str) -> list:
    from alzette.territory.ngsild.models import AttributeInstance

    rows = AttributeInstance.objects.using(DB).filter(entity_id=group,
                                                      attribute__endswith=f"/{term}")  # fmt: skip
    return [row.instance.get("value") for row in rows.order_by("recorded_at", "pk")]


def no_commands(monkeypatch) -> None:
    from alzette.territory.lighting.commands import services as commands

    monkeypatch.setattr(commands, "apply_plan", lambda plan, **kwargs: [])


def test_the_schedule_keeps_each_group_on_its_plan(streets, monkeypatch):
    (grand_rue, _), (gare, _) = streets
    no_commands(monkeypatch)
    policy = policies.save_policy(PLATFORM, policy_data())
    market = policies.save_override(PLATFORM, override_data(groups=[grand_rue]))
    summary = schedule.run_schedule(utc(2026, 12, 4, 20))
    assert summary.endswith("2 groups updated")
    assert schedule.group_state(group_body(grand_rue)) == (1.0, f"override:{market.pk}")
    assert schedule.group_state(group_body(gare)) == (1.0, f"policy:{policy.pk}")
    # Written through the entity operations: in the history, under the model's names.
    assert history(gare, "illuminanceLevel") == [1.0]
    assert history(gare, "activeProgramId") == [f"policy:{policy.pk}"]
    # The same plan a minute later writes nothing.
    assert schedule.run_schedule(utc(2026, 12, 4, 20, 1)).endswith("0 groups updated")
    assert history(gare, "illuminanceLevel") == [1.0]
    # 22:30 local: the policy and the market (until 23:00 local) still say the same.
    assert schedule.sync_groups(utc(2026, 12, 4, 21, 30)) == 0
    # 23:30 local: the market is over and the policy dims both streets.
    assert schedule.sync_groups(utc(2026, 12, 4, 22, 30)) == 2
    assert schedule.group_state(group_body(gare)) == (0.5, f"policy:{policy.pk}")
    assert schedule.group_state(group_body(grand_rue)) == (0.5, f"policy:{policy.pk}")
    assert history(gare, "illuminanceLevel") == [1.0, 0.5]
    # The night cut-off at 01:00 local.
    assert schedule.sync_groups(utc(2026, 12, 5, 0, 30)) == 2
    assert schedule.group_state(group_body(gare)) == (0.0, f"policy:{policy.pk}")
    # The policy disabled: by day the default decides, at the same level: the programme
    # changes all the same.
    policies.set_enabled(PLATFORM, policy, False)
    assert schedule.sync_groups(utc(2026, 12, 5, 12)) == 2
    assert schedule.group_state(group_body(gare)) == (0.0, "default")


def test_a_group_change_is_notified_to_subscribers(streets, monkeypatch, settings):
    from alzette.territory.lighting.demo import context
    from alzette.territory.ngsild import entities, subscriptions
    from alzette.territory.ngsild.models import Notification

    (_, _), (gare, _) = streets
    settings.ALZETTE_NGSILD_DELIVERY = "worker"  # keep them in the outbox
    no_commands(monkeypatch)
    subscriptions.create(entities.Op(tenant="", ctx=context()), {
        "type": "Subscription", "entities": [{"type": "StreetlightGroup"}],
        "watchedAttributes": ["illuminanceLevel"],
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}}})  # fmt: skip
    schedule.run_schedule(utc(2026, 12, 4, 20))
    assert Notification.objects.using(DB).count() == 2  # both streets
    schedule.run_schedule(utc(2026, 12, 4, 20, 1))
    assert Notification.objects.using(DB).count() == 2  # unchanged: nothing sent
    payload = Notification.objects.using(DB).order_by("pk").last().payload
    assert any(item["id"] == gare for item in payload["data"])


def test_a_group_that_refuses_the_write_does_not_stop_the_others(streets, monkeypatch):
    from alzette.territory.ngsild import entities
    from alzette.territory.ngsild.errors import bad_data

    (grand_rue, _), (gare, _) = streets
    no_commands(monkeypatch)
    real = entities.append

    def append(op, entity_id, payload, **kwargs):
        if entity_id == grand_rue:
            raise bad_data("refused")
        assert op.actor == "system:lighting"
        return real(op, entity_id, payload, **kwargs)

    monkeypatch.setattr(entities, "append", append)
    assert schedule.sync_groups(utc(2026, 12, 4, 20)) == 1
    assert schedule.group_state(group_body(grand_rue)) == (None, None)
    assert schedule.group_state(group_body(gare)) == (1.0, "default")


def test_a_stray_group_and_a_group_with_half_a_state(streets):
    from alzette.territory.lighting.demo import context
    from alzette.territory.ngsild import entities

    (grand_rue, _), _ = streets
    op = entities.Op(tenant="", ctx=context())
    point = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [5.95, 49.47]}}
    stray = "urn:ngsi-ld:StreetlightGroup:somewhere"
    entities.create(op, {"id": stray, "type": "StreetlightGroup", "location": point})
    # The right programme but no level: the level is still written.
    entities.append(op, grand_rue, {"activeProgramId": {"type": "Property", "value": "default"}})
    assert schedule.group_state(group_body(grand_rue)) == (None, "default")
    assert schedule.sync_groups(utc(2026, 12, 4, 20)) == 2  # not the stray one
    assert schedule.group_state(group_body(stray)) == (None, None)
    assert schedule.group_state(group_body(grand_rue)) == (1.0, "default")


def test_the_demo_lighting(territory):
    counts = demo.ensure_demo_lighting(today=date(2026, 12, 4))
    assert counts["groups"] >= 8 * 3 and counts["cabinets"] >= 8 * 2
    assert 8 * 20 <= counts["lamps"] <= 8 * 40
    assert (counts["overrides"], counts["mappings"]) == (1, 6)
    again = demo.ensure_demo_lighting(today=date(2026, 12, 4))
    assert again["overrides"] == 0 and again["policies"] == counts["policies"] == 9
    lamps = schedule.lamps()
    assert len(lamps) == counts["lamps"] and all(lamps.values())
    from alzette.territory.lighting.simulator import _value
    from alzette.territory.ngsild.models import Entity

    rows = Entity.objects.using(DB).filter(entity_id__startswith=schedule.LAMP_PREFIX)
    ratings = {_value(row.body, "powerRating") for row in rows}
    assert 150.0 in ratings and ratings <= {30.0, 40.0, 50.0, 60.0, 70.0, 90.0, 150.0}
    # The Christmas market: the Grand-Rue of Audun-le-Tiche at full power all night.
    grand_rue = "urn:ngsi-ld:StreetlightGroup:57038-grand-rue"
    planned = schedule.level_at(grand_rue, utc(2026, 12, 5, 1))
    assert planned.level == 1.0 and planned.source.startswith("override:")
    # Small communes cut off the light in the small hours, the others dim it.
    assert schedule.level_at("57565", utc(2026, 12, 5, 1)).level == 0.0
    assert schedule.level_at("54580", utc(2026, 12, 5, 1)).level == 0.5
