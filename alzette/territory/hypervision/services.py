"""Agents' boards: every write (create, rename and share, add, move and remove a
widget, delete), each in one transaction and recorded in the ledger.

The person is an ``alzette.territory.partners.authz.Actor``; what they may do comes
from ``authz.map_abilities`` and ``authz.board_abilities``. A board the person may
not see is ``UnknownBoard`` (the pages answer 404, so a private board's existence is
not revealed); one they see but may not change is ``PermissionDenied``; a refused
edit is ``BoardError``, whose message is shown to the agent.

Every change is a ``board.changed`` entry (object ``board:<id>``, actor the agent's
pseudonym); its opening (payload and salt) is kept in ``LedgerRecord``. The payload
holds the board id, the change, the board's name and, for widgets, the slug and
positions: nothing about the person beyond the pseudonym of the entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alzette.territory.hypervision import authz, widgets
from alzette.territory.hypervision.models import MAX_WIDGETS, Board, LedgerRecord
from alzette.territory.partners.authz import Actor

DB = "territory"
KIND = "board.changed"
NAME_LENGTH = Board._meta.get_field("name").max_length
DEFAULT_WIDGET = "key-figures"  # a new board starts with the key figures of every theme


class UnknownBoard(LookupError):
    """No such board, or not one the person may see."""


class BoardError(ValueError):
    """An edit refused; ``message`` (translated) says why."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


# --- Reading ------------------------------------------------------------------------------


def _agent_only(actor: Actor) -> None:
    if not authz.map_abilities(actor)["view"]:
        raise PermissionDenied


def board_for(actor: Actor, pk: int, ability: str = "view", *, lock: bool = False) -> Board:
    """The board ``pk`` if ``actor`` has ``ability`` on it (locked for update when
    ``lock``, inside the caller's transaction)."""
    _agent_only(actor)
    rows = Board.objects.using(DB)
    found = (rows.select_for_update() if lock else rows).filter(pk=pk).first()
    if found is None or not authz.board_abilities(actor, found)["view"]:
        raise UnknownBoard(pk)
    if not authz.board_abilities(actor, found)[ability]:
        raise PermissionDenied
    return found


def visible_boards(actor: Actor) -> list[Board]:
    """The actor's boards and the shared ones, by name."""
    _agent_only(actor)
    rows = Board.objects.using(DB).filter(Q(owner=actor.ref) | Q(shared=True))
    return list(rows.order_by("name", "pk"))


# --- The ledger ---------------------------------------------------------------------------


def _record(actor: Actor, board: Board, change: str, **details: Any) -> None:
    """One ``board.changed`` entry, its opening kept beside the boards."""
    from alzette.ledger import services as ledger

    ref = f"board:{board.pk}"
    payload = {"board": board.pk, "change": change, "name": board.name, **details}
    ledger.record_opening(LedgerRecord, KIND, actor.ref, ref, payload, using=DB, object_ref=ref)


# --- Writing ------------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > NAME_LENGTH:
        raise BoardError(_("Give the board a name (120 characters at most)."))
    return name


def create_board(actor: Actor, name: str, shared: bool = False) -> Board:
    """A new board of ``actor``'s, holding the key figures when that widget exists."""
    if not authz.map_abilities(actor)["create_board"]:
        raise PermissionDenied
    name = _clean_name(name)
    registered = DEFAULT_WIDGET in widgets.widgets()
    items = [{"slug": DEFAULT_WIDGET, "options": {"theme": "all"}}] if registered else []
    with transaction.atomic(using=DB):
        board = Board.objects.using(DB).create(
            owner=actor.ref, name=name, shared=bool(shared), widgets=items
        )
        _record(actor, board, "created", shared=board.shared)
    return board


def update_board(actor: Actor, pk: int, name: str, shared: bool) -> Board:
    """Rename and share or unshare a board: one entry per actual change."""
    with transaction.atomic(using=DB):
        board = board_for(actor, pk, "edit", lock=True)
        name = _clean_name(name)
        changes = []
        if name != board.name:
            changes.append("renamed")
        if bool(shared) != board.shared:
            changes.append("shared" if shared else "unshared")
        board.name, board.shared = name, bool(shared)
        board.save(using=DB)
        for change in changes:
            _record(actor, board, change)
    return board


def add_widget(actor: Actor, pk: int, slug: str, options: Mapping[str, Any]) -> Board:
    """Append the registered widget ``slug``; options not allowed fall back to defaults."""
    with transaction.atomic(using=DB):
        board = board_for(actor, pk, "edit", lock=True)
        widget = widgets.widgets().get(slug or "")
        if widget is None:
            raise BoardError(_("Unknown widget."))
        items = list(board.widgets)
        if len(items) >= MAX_WIDGETS:
            raise BoardError(_("A board holds at most %(count)d widgets.") % {"count": MAX_WIDGETS})
        items.append({"slug": widget.slug, "options": widget.clean_options(options)})
        board.widgets = items
        board.save(using=DB)
        _record(actor, board, "widget_added", slug=widget.slug, position=len(items) - 1)
    return board


def _slug_of(item: Any) -> str:
    return str(item.get("slug", "")) if isinstance(item, dict) else ""


def _position(board: Board, position: int) -> int:
    if isinstance(position, bool) or not isinstance(position, int):
        raise BoardError(_("Unknown widget."))
    if not 0 <= position < len(board.widgets):
        raise BoardError(_("Unknown widget."))
    return position


def move_widget(actor: Actor, pk: int, position: int, direction: Literal["up", "down"]) -> Board:
    """Swap the widget at ``position`` with its neighbour; at either end, nothing moves
    and nothing is recorded."""
    with transaction.atomic(using=DB):
        board = board_for(actor, pk, "edit", lock=True)
        if direction not in ("up", "down"):
            raise BoardError(_("Unknown action."))
        n = _position(board, position)
        other = n - 1 if direction == "up" else n + 1
        if not 0 <= other < len(board.widgets):
            return board
        items = list(board.widgets)
        items[n], items[other] = items[other], items[n]
        board.widgets = items
        board.save(using=DB)
        _record(actor, board, "widget_moved", slug=_slug_of(items[other]), position=n, to=other)
    return board


def remove_widget(actor: Actor, pk: int, position: int) -> Board:
    """Take the widget at ``position`` off the board."""
    with transaction.atomic(using=DB):
        board = board_for(actor, pk, "edit", lock=True)
        items = list(board.widgets)
        removed = items.pop(_position(board, position))
        board.widgets = items
        board.save(using=DB)
        _record(actor, board, "widget_removed", slug=_slug_of(removed), position=position)
    return board


def delete_board(actor: Actor, pk: int) -> None:
    """Delete a board; its ledger openings stay (they name it by id only)."""
    with transaction.atomic(using=DB):
        board = board_for(actor, pk, "delete", lock=True)
        _record(actor, board, "deleted")
        board.delete(using=DB)
