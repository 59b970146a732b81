"""The agents' lighting pages: overview, policy editor, calendar, lookup; good and bad
input, and who may see and change what."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from alzette.territory.lighting import policies
from alzette.territory.lighting.authz import PLATFORM
from alzette.territory.lighting.models import CalendarOverride, Policy
from tests.conftest import ALL_DATABASES
from tests.test_lighting_policies import AUDUN, make_group, override_data, policy_data

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
DB = "territory"
BASE = "/hypervision/lighting/"


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def street(territory):
    return make_group(AUDUN, "grand-rue")


def step_rows(*steps, rows: int = 8) -> dict[str, str]:
    data = {}
    for n in range(rows):
        at, time, offset, level = steps[n] if n < len(steps) else ("", "", "", "")
        data.update({f"step_{n}_at": at, f"step_{n}_time": time, f"step_{n}_offset": offset,
                     f"step_{n}_level": level})  # fmt: skip
    return data


def policy_post(**extra) -> dict:
    return {"name": "Programme hiver", "commune": AUDUN, "priority": "0", "enabled": "on",
            **step_rows(("sunset", "", "15", "100"), ("time", "23:00", "", "50"),
                        ("sunrise", "", "", "0")), **extra}  # fmt: skip


@pytest.mark.parametrize("path", ["", "policies/new/", "calendar/", "lookup/"])
def test_anonymous_and_citizens_are_kept_out(path, citizen, territory):
    answer = client_for().get(BASE + path)
    assert answer.status_code == 302 and "login" in answer["Location"]
    assert client_for(citizen).get(BASE + path).status_code == 403


def test_overview_shows_the_plan_and_the_policies(agent_audun, street):
    policy = policies.save_policy(PLATFORM, policy_data(name="Standard"))
    answer = client_for(agent_audun).get(BASE, {"night": "2026-12-04"})
    assert answer.status_code == 200
    html = answer.content.decode()
    assert 'id="li-night-chart"' in html and "<svg" in html and 'class="li-line"' in html
    assert f'data-policy="{policy.pk}"' in html and 'id="li-sunset"' in html
    assert html.count('data-source="policy:') == 6  # the night's six segments
    assert 'id="li-new-policy"' in html
    assert street[0] in html  # the street's row
    # Another agent sees it, without the buttons to change it.
    answer = client_for(agent_audun).get(BASE, {"commune": "54580", "night": "bad"})
    assert answer.status_code == 200 and 'id="li-new-policy"' not in answer.content.decode()


def named_group(commune: str, slug: str, name: str) -> str:
    from alzette.territory.lighting.demo import context
    from alzette.territory.ngsild import entities

    group, _lamps = make_group(commune, slug, count=1, first=50)
    entities.append(entities.Op(tenant="", ctx=context()), group,
                    {"name": {"type": "Property", "value": name}})  # fmt: skip
    return group


def group_marks(html: str, group: str) -> int:
    return html.count(f'class="li-group" data-group="{group}"')


def test_streets_are_shown_by_name_with_their_id(agent_audun, street):
    plain = street[0]  # no name in its entity: shown by its id
    named = named_group(AUDUN, "place-de-la-mairie", "Audun-le-Tiche, Place de la Mairie")
    gone = "urn:ngsi-ld:StreetlightGroup:57038-rue-disparue"
    policy = policies.save_policy(PLATFORM, policy_data(name="Rues", groups=[named, plain],
                                                        priority=5))  # fmt: skip
    Policy.objects.using(DB).filter(pk=policy.pk).update(groups=[named, plain, gone])
    market = policies.save_override(PLATFORM, override_data(
        groups=[named], start=datetime(2030, 12, 6, 16, tzinfo=UTC),
        end=datetime(2030, 12, 6, 22, tzinfo=UTC)))  # fmt: skip
    html = client_for(agent_audun).get(BASE, {"night": "2026-12-04"}).content.decode()
    row = html[html.index(f'data-policy="{policy.pk}"') :]
    row = row[: row.index("</tr>")]
    # The policy's streets: the name, then the id as secondary text.
    assert (
        '<span class="li-group" data-group="' + named + '">Audun-le-Tiche, Place de la '
        'Mairie <small class="li-id">' + named + "</small></span>"
    ) in row
    assert f'data-group="{plain}"><span class="li-id">{plain}</span>' in row
    assert f'data-group="{gone}"><span class="li-id">{gone}</span>' in row  # not in the context
    # The coming override and the streets now.
    item = html[html.index(f'data-override="{market.pk}"') :]
    assert item[: item.index("</li>")].count('<small class="li-id">' + named) == 1
    now = html[html.index('id="li-groups"') :]
    now = now[: now.index("</table>")]
    assert group_marks(now, named) == 1 and group_marks(now, plain) == 1
    # The calendar: the name alone in the day's cell, name and id in the month's list.
    page = client_for(agent_audun).get(BASE + "calendar/", {"commune": AUDUN,
                                                            "month": "2030-12"})  # fmt: skip
    html = page.content.decode()
    cell = html[html.index('data-date="2030-12-06"') :]
    cell = cell[: cell.index("</li>\n")]
    assert group_marks(cell, named) == 1 and 'class="li-id"' not in cell
    listing = html[html.index('id="cal-overrides"') :]
    assert '<small class="li-id">' + named + "</small>" in listing


def test_create_a_policy_with_the_step_rows(agent_audun, street):
    answer = client_for(agent_audun).post(BASE + "policies/new/", policy_post(groups=[street[0]]))
    assert answer.status_code == 302, answer.content.decode()[:3000]
    policy = Policy.objects.using(DB).get()
    assert policy.groups == [street[0]]
    assert policy.steps == [{"at": "sunset", "offset": 15, "level": 1.0},
                            {"at": "23:00", "offset": 0, "level": 0.5},
                            {"at": "sunrise", "offset": 0, "level": 0.0}]  # fmt: skip
    page = client_for(agent_audun).get(BASE + f"policies/{policy.pk}/").content.decode()
    assert 'value="Programme hiver"' in page and 'value="23:00"' in page


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ((("sunset", "", "", "150"),), "step_0_level"),
        ((("time", "", "", "50"),), "step_0_time"),
        ((("sunset", "", "", ""),), "step_0_level"),
        ((("time", "23:00", "", "50"), ("sunset", "", "", "100")), "step_1_at"),
        ((("sunset", "", "", "100"), ("time", "18:00", "", "50")), "step_1_time"),
        ((("sunset", "", "999", "100"),), "step_0_offset"),
    ],
)
def test_bad_steps_are_shown_on_their_row(agent_audun, territory, rows, field):
    data = {**policy_post(), **step_rows(*rows)}
    answer = client_for(agent_audun).post(BASE + "policies/new/", data)
    assert answer.status_code == 200
    html = answer.content.decode()
    assert f'id="id_{field}_error"' in html and 'id="policy-errors"' in html
    assert not Policy.objects.using(DB).exists()


def test_no_step_and_no_name(agent_audun, territory):
    answer = client_for(agent_audun).post(BASE + "policies/new/",
                                          {**policy_post(name=""), **step_rows()})  # fmt: skip
    html = answer.content.decode()
    assert answer.status_code == 200 and 'id="id_name_error"' in html
    assert 'role="alert"' in html


def test_a_conflict_names_the_other_policy(agent_audun, territory):
    other = policies.save_policy(PLATFORM, policy_data(name="Déjà là"))
    answer = client_for(agent_audun).post(BASE + "policies/new/", policy_post())
    html = answer.content.decode()
    assert answer.status_code == 200 and f'data-conflict="policy:{other.pk}"' in html
    assert "Déjà là" in html and Policy.objects.using(DB).count() == 1


def test_edit_disable_and_delete(agent_audun, agent_villerupt, agent_epci, territory):
    policy = policies.save_policy(PLATFORM, policy_data(name="Standard"))
    edit = BASE + f"policies/{policy.pk}/"
    assert client_for(agent_villerupt).get(edit).status_code == 403
    assert client_for(agent_villerupt).post(edit, policy_post()).status_code == 403
    assert client_for(agent_villerupt).post(edit + "enabled/", {"enabled": "0"}).status_code == 403
    assert client_for(agent_epci).post(edit, policy_post(name="Par l'EPCI")).status_code == 302
    assert Policy.objects.using(DB).get().name == "Par l'EPCI"
    assert client_for(agent_audun).post(edit + "enabled/", {"enabled": "0"}).status_code == 302
    assert not Policy.objects.using(DB).get().enabled
    assert client_for(agent_audun).get(BASE + "policies/999/").status_code == 404
    assert client_for(agent_audun).get(edit + "enabled/").status_code == 405
    assert client_for(agent_audun).post(edit + "delete/").status_code == 302
    assert not Policy.objects.using(DB).exists()


def override_post(**extra) -> dict:
    return {"commune": AUDUN, "start": "2026-12-04T16:00", "end": "2026-12-04T23:00",
            "mode": "level", "level": "100", "reason": "Marché de Noël", **extra}  # fmt: skip


def test_calendar_month_and_overrides(agent_audun, street):
    client = client_for(agent_audun)
    answer = client.get(BASE + "calendar/", {"commune": AUDUN, "month": "2026-12"})
    html = answer.content.decode()
    assert answer.status_code == 200 and html.count('class="li-day') == 31
    assert 'data-date="2026-12-25"' in html and 'id="override-form"' in html
    answer = client.post(BASE + "calendar/?commune=57038&month=2026-12",
                         override_post(groups=[street[0]]))  # fmt: skip
    assert answer.status_code == 302 and "month=2026-12" in answer["Location"]
    override = CalendarOverride.objects.using(DB).get()
    assert override.start == datetime(2026, 12, 4, 15, tzinfo=UTC) and override.level == 1.0
    html = client.get(BASE + "calendar/", {"commune": AUDUN, "month": "2026-12"}).content.decode()
    assert 'data-date="2026-12-04" data-overrides="1"' in html
    # Overlapping it: refused, naming it.
    answer = client.post(BASE + "calendar/", override_post(reason="Concert"))
    html = answer.content.decode()
    assert answer.status_code == 200 and f'data-conflict="override:{override.pk}"' in html
    # Bad input: the fields say what is wrong.
    answer = client.post(BASE + "calendar/", override_post(end="2026-12-04T10:00", level="",
                                                           reason=""))  # fmt: skip
    html = answer.content.decode()
    assert 'id="id_level_error"' in html and 'id="id_reason_error"' in html
    answer = client.post(BASE + "calendar/", override_post(end="2026-12-04T10:00"))
    assert 'id="id_end_error"' in answer.content.decode()
    answer = client.post(BASE + "calendar/", override_post(mode="policy", policy=""))
    assert 'id="id_policy_error"' in answer.content.decode()
    assert CalendarOverride.objects.using(DB).count() == 1


def test_follow_a_policy_and_delete(agent_audun, agent_villerupt, territory):
    festive = policies.save_policy(PLATFORM, policy_data(name="Festif", enabled=False))
    client = client_for(agent_audun)
    answer = client.post(BASE + "calendar/", override_post(mode="policy", level="",
                                                           policy=str(festive.pk)))  # fmt: skip
    assert answer.status_code == 302
    override = CalendarOverride.objects.using(DB).get()
    assert override.policy_id == festive.pk and override.level is None
    delete = BASE + f"calendar/{override.pk}/delete/"
    assert client_for(agent_villerupt).post(delete).status_code == 403
    # A Villerupt agent cannot add one in Audun-le-Tiche: not a choice of the form.
    january = override_post(start="2027-01-04T16:00", end="2027-01-04T23:00")
    answer = client_for(agent_villerupt).post(BASE + "calendar/", january)
    assert answer.status_code == 200 and 'id="id_commune_error"' in answer.content.decode()
    assert client.post(delete).status_code == 302
    assert not CalendarOverride.objects.using(DB).exists()
    assert client.post(delete).status_code == 404


def test_lookup(agent_audun, street):
    group, lamps = street
    policies.save_policy(PLATFORM, policy_data())
    policies.save_override(PLATFORM, override_data(groups=[group]))
    client = client_for(agent_audun)
    answer = client.get(BASE + "lookup/", {"target": lamps[0], "at": "2026-12-04T20:00"})
    html = answer.content.decode()
    assert answer.status_code == 200 and 'id="lookup-result"' in html
    assert 'data-source="override:' in html and 'id="lookup-level">100 %' in html
    answer = client.get(BASE + "lookup/", {"target": AUDUN, "at": "2026-12-05T02:00"})
    assert 'id="lookup-level">0 %' in answer.content.decode()
    unknown = {"target": "urn:ngsi-ld:Streetlight:x", "at": "2026-12-05T02:00"}
    answer = client.get(BASE + "lookup/", unknown)
    html = answer.content.decode()
    assert 'id="id_target_error"' in html and 'id="lookup-result"' not in html
    answer = client.get(BASE + "lookup/", {"target": AUDUN, "at": "tonight"})
    assert 'id="id_at_error"' in answer.content.decode()
    assert 'id="lookup-form"' in client.get(BASE + "lookup/").content.decode()
