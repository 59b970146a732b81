"""Boards' services: every write authorised, validated against the widget registry,
atomic, and recorded in the ledger as ``board.changed`` (opening kept beside)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from alzette.ledger import entries
from alzette.ledger.models import LedgerEntry
from alzette.territory.hypervision import services, widgets
from alzette.territory.hypervision.models import MAX_WIDGETS, Board, LedgerRecord
from alzette.territory.partners.authz import actor_of
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

DB = "territory"


@pytest.fixture(autouse=True)
def _fresh_registry():
    widgets.reload()
    yield
    widgets.reload()


@pytest.fixture
def audun(agent_audun):
    return actor_of(agent_audun)


@pytest.fixture
def villerupt(agent_villerupt):
    return actor_of(agent_villerupt)


def new_board(actor, items=None, shared=False, name="Déchets") -> Board:
    return Board.objects.using(DB).create(
        owner=actor.ref, name=name, shared=shared, widgets=items or []
    )


def stored(board: Board) -> Board:
    return Board.objects.using(DB).get(pk=board.pk)


def changes() -> list[str]:
    return [r.payload["change"] for r in LedgerRecord.objects.using(DB).order_by("leaf_index")]


def last_record() -> LedgerRecord:
    return LedgerRecord.objects.using(DB).order_by("leaf_index").last()


def assert_entry(record: LedgerRecord, actor, board_id: int) -> None:
    """The public entry matches the opening kept beside the boards."""
    entry = LedgerEntry.objects.get(index=record.leaf_index)
    assert entry.kind == record.kind == "board.changed"
    assert entry.actor == actor.ref
    assert entry.object == record.object_ref == f"board:{board_id}"
    assert entries.opens(entry.commitment, record.payload, record.salt)
    assert record.payload["board"] == board_id


EVENTS = {"slug": "events-chart", "options": {"days": "14"}}
KEYS = {"slug": "key-figures", "options": {"theme": "all"}}


# --- Create ---------------------------------------------------------------------------------


def test_create_a_board(audun):
    board = services.create_board(audun, "  Collecte ", shared=True)
    found = stored(board)
    assert (found.owner, found.name, found.shared) == (audun.ref, "Collecte", True)
    assert found.widgets == [KEYS]
    record = last_record()
    assert_entry(record, audun, board.pk)
    assert record.payload == {
        "board": board.pk,
        "change": "created",
        "name": "Collecte",
        "shared": True,
    }


@pytest.mark.parametrize("name", ["", "   ", "x" * 121])
def test_a_board_needs_a_name(audun, name):
    with pytest.raises(services.BoardError):
        services.create_board(audun, name)
    assert not Board.objects.using(DB).exists() and changes() == []


def test_citizens_create_no_board(citizen):
    with pytest.raises(PermissionDenied):
        services.create_board(actor_of(citizen), "Mine")
    assert not Board.objects.using(DB).exists() and changes() == []


def test_visible_boards_are_mine_and_shared_ones(audun, villerupt, citizen):
    mine = new_board(audun, name="A")
    shared = new_board(villerupt, shared=True, name="B")
    new_board(villerupt, name="C")
    assert services.visible_boards(audun) == [mine, shared]
    with pytest.raises(PermissionDenied):
        services.visible_boards(actor_of(citizen))


# --- Widgets --------------------------------------------------------------------------------


def test_add_a_widget_with_clean_options(audun):
    board = new_board(audun)
    services.add_widget(audun, board.pk, "waste-fill-chart", {"days": "9999", "x": "y"})
    services.add_widget(audun, board.pk, "events-chart", {"days": "30"})
    assert stored(board).widgets == [
        {"slug": "waste-fill-chart", "options": {"days": "14"}},
        {"slug": "events-chart", "options": {"days": "30"}},
    ]
    record = last_record()
    assert_entry(record, audun, board.pk)
    assert record.payload == {
        "board": board.pk,
        "change": "widget_added",
        "name": "Déchets",
        "slug": "events-chart",
        "position": 1,
    }


@pytest.mark.parametrize("slug", ["nope", "", "../key-figures"])
def test_an_unknown_widget_is_refused(audun, slug):
    board = new_board(audun)
    with pytest.raises(services.BoardError):
        services.add_widget(audun, board.pk, slug, {})
    assert stored(board).widgets == [] and changes() == []


def test_a_board_holds_at_most_max_widgets(audun):
    board = new_board(audun, items=[EVENTS] * MAX_WIDGETS)
    with pytest.raises(services.BoardError):
        services.add_widget(audun, board.pk, "events-chart", {})
    assert len(stored(board).widgets) == MAX_WIDGETS and changes() == []


def test_move_widgets(audun):
    board = new_board(audun, items=[EVENTS, KEYS])
    services.move_widget(audun, board.pk, 1, "up")
    assert stored(board).widgets == [KEYS, EVENTS]
    record = last_record()
    assert_entry(record, audun, board.pk)
    assert record.payload == {
        "board": board.pk,
        "change": "widget_moved",
        "name": "Déchets",
        "slug": "key-figures",
        "position": 1,
        "to": 0,
    }
    services.move_widget(audun, board.pk, 0, "down")
    assert stored(board).widgets == [EVENTS, KEYS]
    assert changes() == ["widget_moved", "widget_moved"]


def test_moving_past_an_end_changes_and_records_nothing(audun):
    board = new_board(audun, items=[EVENTS, KEYS])
    services.move_widget(audun, board.pk, 0, "up")
    services.move_widget(audun, board.pk, 1, "down")
    assert stored(board).widgets == [EVENTS, KEYS] and changes() == []


def test_remove_a_widget(audun):
    board = new_board(audun, items=[EVENTS, KEYS])
    services.remove_widget(audun, board.pk, 0)
    assert stored(board).widgets == [KEYS]
    record = last_record()
    assert_entry(record, audun, board.pk)
    assert record.payload == {
        "board": board.pk,
        "change": "widget_removed",
        "name": "Déchets",
        "slug": "events-chart",
        "position": 0,
    }


@pytest.mark.parametrize("position", [-1, 2, 99, True])
def test_a_bad_index_is_refused(audun, position):
    board = new_board(audun, items=[EVENTS, KEYS])
    for call in (
        lambda: services.remove_widget(audun, board.pk, position),
        lambda: services.move_widget(audun, board.pk, position, "up"),
    ):
        with pytest.raises(services.BoardError):
            call()
    assert stored(board).widgets == [EVENTS, KEYS] and changes() == []


def test_a_bad_direction_is_refused(audun):
    board = new_board(audun, items=[EVENTS, KEYS])
    with pytest.raises(services.BoardError):
        services.move_widget(audun, board.pk, 0, "sideways")  # type: ignore[arg-type]
    assert changes() == []


# --- Rename, share, delete ------------------------------------------------------------------


def test_rename_and_share_record_each_change(audun):
    board = new_board(audun)
    services.update_board(audun, board.pk, "Tournées", True)
    found = stored(board)
    assert (found.name, found.shared) == ("Tournées", True)
    assert changes() == ["renamed", "shared"]
    for record in LedgerRecord.objects.using(DB):
        assert_entry(record, audun, board.pk)
        assert record.payload["name"] == "Tournées"
    services.update_board(audun, board.pk, "Tournées", False)
    assert changes() == ["renamed", "shared", "unshared"]
    services.update_board(audun, board.pk, "Tournées", False)  # nothing changed
    assert len(changes()) == 3


def test_a_rename_needs_a_name(audun):
    board = new_board(audun)
    with pytest.raises(services.BoardError):
        services.update_board(audun, board.pk, " ", True)
    found = stored(board)
    assert (found.name, found.shared) == ("Déchets", False) and changes() == []


def test_delete_a_board(audun):
    board = new_board(audun, items=[EVENTS])
    services.delete_board(audun, board.pk)
    assert not Board.objects.using(DB).exists()
    record = last_record()
    assert_entry(record, audun, board.pk)
    assert record.payload == {"board": board.pk, "change": "deleted", "name": "Déchets"}


# --- Wrong person ---------------------------------------------------------------------------


def _writes(pk: int) -> list:
    return [
        lambda actor: services.update_board(actor, pk, "Autre", True),
        lambda actor: services.add_widget(actor, pk, "events-chart", {}),
        lambda actor: services.move_widget(actor, pk, 1, "up"),
        lambda actor: services.remove_widget(actor, pk, 0),
        lambda actor: services.delete_board(actor, pk),
    ]


def test_another_agents_shared_board_is_read_only(audun, villerupt):
    board = new_board(villerupt, items=[EVENTS, KEYS], shared=True)
    assert services.board_for(audun, board.pk) == board
    for write in _writes(board.pk):
        with pytest.raises(PermissionDenied):
            write(audun)
    found = stored(board)
    assert (found.name, found.widgets) == ("Déchets", [EVENTS, KEYS]) and changes() == []


def test_another_agents_private_board_is_unknown(audun, villerupt):
    board = new_board(villerupt, items=[EVENTS, KEYS])
    with pytest.raises(services.UnknownBoard):
        services.board_for(audun, board.pk)
    for write in _writes(board.pk):
        with pytest.raises(services.UnknownBoard):
            write(audun)
    assert stored(board).widgets == [EVENTS, KEYS] and changes() == []


def test_a_citizen_changes_no_board(citizen, audun):
    board = new_board(audun, items=[EVENTS, KEYS], shared=True)
    for write in _writes(board.pk):
        with pytest.raises(PermissionDenied):
            write(actor_of(citizen))
    assert stored(board).widgets == [EVENTS, KEYS] and changes() == []


def test_an_unknown_board(audun):
    for write in _writes(999_999):
        with pytest.raises(services.UnknownBoard):
            write(audun)


def test_the_ledger_entry_holds_no_name_or_address(agent_audun, audun):
    board = services.create_board(audun, "Collecte")
    entry = LedgerEntry.objects.get(index=last_record().leaf_index)
    public = f"{entry.actor} {entry.object} {entry.kind}"
    assert agent_audun.email not in public and "Collecte" not in public
    assert entry.actor == agent_audun.pseudonym and entry.object == f"board:{board.pk}"


def test_a_failed_ledger_write_undoes_the_change(audun, monkeypatch):
    from alzette.ledger import services as ledger

    board = new_board(audun, items=[EVENTS])

    def broken(*args, **kwargs):
        raise entries.EntryError("down")

    monkeypatch.setattr(ledger, "record_opening", broken)
    with pytest.raises(entries.EntryError):
        services.add_widget(audun, board.pk, "key-figures", {})
    with pytest.raises(entries.EntryError):
        services.delete_board(audun, board.pk)
    assert stored(board).widgets == [EVENTS]
