"""The one exception of the CSE: a response status code and a debug message."""

from __future__ import annotations

from alzette.territory.onem2m.constants import RSC


class M2MError(Exception):
    """Raised anywhere in the CSE; the dispatcher turns it into a response primitive.

    ``dbg`` is shown to the originator in ``m2m:dbg``: say what is wrong with the
    request in terms of the request, never internals.
    """

    def __init__(self, rsc: RSC, dbg: str) -> None:
        super().__init__(dbg)
        self.rsc = rsc
        self.dbg = dbg


def bad_request(dbg: str) -> M2MError:
    return M2MError(RSC.BAD_REQUEST, dbg)


def not_found(dbg: str = "resource not found") -> M2MError:
    return M2MError(RSC.NOT_FOUND, dbg)


def no_privilege(dbg: str = "originator has no privilege") -> M2MError:
    return M2MError(RSC.ORIGINATOR_HAS_NO_PRIVILEGE, dbg)


def not_allowed(dbg: str) -> M2MError:
    return M2MError(RSC.OPERATION_NOT_ALLOWED, dbg)
