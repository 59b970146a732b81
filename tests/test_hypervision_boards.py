"""Boards: create, show, edit with plain forms (add, move, remove, rename, share,
delete), only the owner edits, shared boards for every agent; widgets and their
registry; the map page itself (filters without script, refusals)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.utils import timezone

from alzette.territory.hypervision import widgets
from alzette.territory.hypervision.models import MAX_WIDGETS, Board
from tests.conftest import ALL_DATABASES
from tests.test_hypervision_layers import AUDUN, container, upsert

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

BOARDS = "/hypervision/boards/"


@pytest.fixture(autouse=True)
def _fresh_registry():
    widgets.reload()
    yield
    widgets.reload()


def logged(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def new_board(owner, name="Déchets", shared=False, items=None) -> Board:
    return Board.objects.using("territory").create(
        owner=owner.pseudonym, name=name, shared=shared, widgets=items or []
    )


def edit(client: Client, board: Board, **data):
    return client.post(f"{BOARDS}{board.pk}/edit/", data)


def slugs(board: Board) -> list[str]:
    board.refresh_from_db(using="territory")
    return [item["slug"] for item in board.widgets]


# --- Create and list ----------------------------------------------------------------------


def test_an_agent_creates_a_board(agent_audun):
    client = logged(agent_audun)
    response = client.post(BOARDS, {"name": "Collecte", "shared": "on"})
    board = Board.objects.using("territory").get()
    assert response.status_code == 302 and response["Location"] == f"{BOARDS}{board.pk}/edit/"
    assert board.owner == agent_audun.pseudonym and board.shared
    assert slugs(board) == ["key-figures"]
    assert client.get(BOARDS).status_code == 200


def test_a_board_needs_a_name(agent_audun):
    response = logged(agent_audun).post(BOARDS, {"name": ""})
    assert response.status_code == 400
    assert not Board.objects.using("territory").exists()


def test_the_list_shows_mine_and_shared_ones(agent_audun, agent_villerupt):
    mine = new_board(agent_audun, "mine")
    shared = new_board(agent_villerupt, "shared", shared=True)
    private = new_board(agent_villerupt, "private")
    page = logged(agent_audun).get(BOARDS).content.decode()
    assert f'data-board="{mine.pk}"' in page and f'data-board="{shared.pk}"' in page
    assert f'data-board="{private.pk}"' not in page


@pytest.mark.parametrize("persona", ["citizen", "partner"])
def test_boards_are_for_agents_only(persona, request):
    client = logged(request.getfixturevalue(persona))
    assert client.get(BOARDS).status_code == 403
    assert client.post(BOARDS, {"name": "x"}).status_code == 403
    assert not Board.objects.using("territory").exists()


def test_a_visitor_is_sent_to_the_login_page():
    response = Client().get(BOARDS)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Show -------------------------------------------------------------------------------


def test_a_board_renders_its_widgets(agent_audun, territory):
    upsert([container("bin-57038-001", AUDUN, 0.9), container("bin-57038-002", AUDUN, 0.3)])
    items = [
        {"slug": "key-figures", "options": {"theme": "waste"}},
        {"slug": "waste-fill-chart", "options": {"days": "7"}},
        {"slug": "events-chart", "options": {}},
        {"slug": "no-longer-registered", "options": {}},
    ]
    board = new_board(agent_audun, items=items)
    response = logged(agent_audun).get(f"{BOARDS}{board.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="hv-widget"') == 3
    assert '<svg role="img"' in page and "<table>" in page


def test_key_figures_count_devices_fill_and_full_bins(territory, rf):
    upsert([container("bin-57038-001", AUDUN, 0.9), container("bin-57038-002", AUDUN, 0.3)])
    data = widgets.widgets()["key-figures"].context(rf.get("/"), {"theme": "waste"})
    figures = [value for _, value in data["figures"]]
    assert figures[:3] == [2, "60 %", 1]  # devices, mean fill, over 80 %


def test_charts_show_one_value_per_day(territory, rf):
    from alzette.territory.events.models import TerritoryEvent

    TerritoryEvent(
        kind="illegal_dumping",
        commune_code=AUDUN,
        lon=5.98,
        lat=49.47,
        observed_on=timezone.localdate(),
        source_ref="b" * 64,
    ).save(using="territory")
    data = widgets.widgets()["events-chart"].context(rf.get("/"), {"days": "7"})
    bars = data["chart"]["bars"]
    assert len(bars) == 7 and bars[-1]["value"] == 1 and bars[0]["value"] is None
    assert bars[-1]["height"] > 0


def test_alerts_chart_counts_alerts_per_day(territory, rf):
    from alzette.territory.supervision.models import Alert, AlertRule

    rule = AlertRule.objects.using("territory").create(
        name="r",
        entity_type="WasteContainer",
        attribute="fillingLevel",
        kind="threshold",
        operator=">",
        value=0.8,
        created_by="ab" * 16,
        unit="P1",
    )
    for n in range(2):
        Alert.objects.using("territory").create(
            rule=rule,
            entity_id=f"urn:ngsi-ld:WasteContainer:{n}",
            message="m",
            fired_at=datetime.now(UTC) - timedelta(days=n),
        )
    bars = widgets.widgets()["alerts-chart"].context(rf.get("/"), {"days": "14"})["chart"]["bars"]
    assert [b["value"] for b in bars[-2:]] == [1, 1]


def test_shared_boards_are_visible_to_other_agents_not_editable(agent_audun, agent_villerupt):
    shared = new_board(agent_villerupt, shared=True)
    private = new_board(agent_villerupt)
    client = logged(agent_audun)
    assert client.get(f"{BOARDS}{shared.pk}/").status_code == 200
    assert client.get(f"{BOARDS}{private.pk}/").status_code == 404
    assert client.get(f"{BOARDS}{shared.pk}/edit/").status_code == 403
    assert edit(client, shared, action="add", slug="events-chart").status_code == 403
    assert edit(client, shared, action="delete").status_code == 403
    assert slugs(shared) == []


def test_an_unknown_board_is_404(agent_audun):
    assert logged(agent_audun).get(f"{BOARDS}999/").status_code == 404


def test_a_citizen_cannot_see_a_shared_board(citizen, agent_audun):
    board = new_board(agent_audun, shared=True)
    assert logged(citizen).get(f"{BOARDS}{board.pk}/").status_code == 403


# --- Edit -----------------------------------------------------------------------------------


def test_add_move_remove_widgets(agent_audun):
    board = new_board(agent_audun)
    client = logged(agent_audun)
    assert client.get(f"{BOARDS}{board.pk}/edit/").status_code == 200
    assert edit(client, board, action="add", slug="events-chart", days="30").status_code == 302
    edit(client, board, action="add", slug="key-figures", theme="waste")
    board.refresh_from_db(using="territory")
    assert board.widgets == [
        {"slug": "events-chart", "options": {"days": "30"}},
        {"slug": "key-figures", "options": {"theme": "waste"}},
    ]
    edit(client, board, action="up", position="1")
    assert slugs(board) == ["key-figures", "events-chart"]
    edit(client, board, action="down", position="0")
    assert slugs(board) == ["events-chart", "key-figures"]
    edit(client, board, action="remove", position="0")
    assert slugs(board) == ["key-figures"]


def test_bad_options_fall_back_to_defaults(agent_audun):
    board = new_board(agent_audun)
    edit(logged(agent_audun), board, action="add", slug="waste-fill-chart", days="9999")
    board.refresh_from_db(using="territory")
    assert board.widgets == [{"slug": "waste-fill-chart", "options": {"days": "14"}}]


@pytest.mark.parametrize(
    "data",
    [
        {"action": "add", "slug": "nope"},
        {"action": "remove", "position": "5"},
        {"action": "up", "position": "x"},
        {"action": "rename", "name": ""},
        {"action": "explode"},
    ],
)
def test_bad_edits_are_refused(agent_audun, data):
    board = new_board(agent_audun, items=[{"slug": "events-chart", "options": {}}])
    assert edit(logged(agent_audun), board, **data).status_code == 400
    assert slugs(board) == ["events-chart"]


def test_a_board_holds_a_bounded_number_of_widgets(agent_audun):
    board = new_board(agent_audun, items=[{"slug": "events-chart", "options": {}}] * MAX_WIDGETS)
    assert edit(logged(agent_audun), board, action="add", slug="events-chart").status_code == 400


def test_rename_share_and_delete(agent_audun):
    board = new_board(agent_audun)
    client = logged(agent_audun)
    edit(client, board, action="rename", name="Tournées", shared="on")
    board.refresh_from_db(using="territory")
    assert board.name == "Tournées" and board.shared
    assert edit(client, board, action="delete").status_code == 302
    assert not Board.objects.using("territory").exists()


def test_edits_need_csrf(agent_audun):
    board = new_board(agent_audun)
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent_audun)
    assert edit(client, board, action="add", slug="events-chart").status_code == 403


# --- The widget registry ------------------------------------------------------------------


class NoTemplate(widgets.Widget):
    slug = "no-template"
    title = "x"
    theme = "waste"


@pytest.mark.parametrize(
    "paths",
    [
        ["alzette.territory.hypervision.widgets.Missing"],
        ["tests.test_hypervision_boards.NoTemplate"],
        ["alzette.territory.hypervision.widgets.KeyFiguresWidget"] * 2,
        ["tests.test_hypervision_boards.logged"],
    ],
)
def test_a_bad_widget_registry_fails_loudly(settings, paths):
    settings.ALZETTE_HYPERVISION_WIDGETS = paths
    with pytest.raises(ImproperlyConfigured):
        widgets.widgets()


# --- The map page -------------------------------------------------------------------------


def test_the_map_page_for_an_agent(agent_audun, territory):
    upsert([container("bin-57038-001", AUDUN, 0.9)])
    response = logged(agent_audun).get("/hypervision/", {"commune": AUDUN, "theme": "waste"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-features-url="/hypervision/features.geojson?commune=57038&amp;theme=waste"' in page
    assert 'aria-live="polite"' in page
    assert 'data-id="urn:ngsi-ld:WasteContainer:bin-57038-001"' in page  # latest changes
    assert 'data-layer="waste"' in page and 'data-layer="streetlights"' not in page


def test_the_map_page_refuses_bad_filters(agent_audun, territory):
    assert logged(agent_audun).get("/hypervision/", {"commune": "00000"}).status_code == 400


@pytest.mark.parametrize("persona", ["citizen", "partner"])
def test_the_map_page_is_for_agents_only(persona, request, territory):
    assert logged(request.getfixturevalue(persona)).get("/hypervision/").status_code == 403


def test_the_map_page_sends_visitors_to_log_in(territory):
    response = Client().get("/hypervision/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
