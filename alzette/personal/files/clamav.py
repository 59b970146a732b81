"""A minimal client of clamd's INSTREAM command (ClamAV daemon), on the standard library.

The protocol (clamd(8)): send ``zINSTREAM\\0``, then the data in chunks, each
prefixed by its length as a 4-byte big-endian integer, then a zero length. clamd
answers one NUL-terminated line: ``stream: OK``, ``stream: <signature> FOUND`` or
``... ERROR`` (for instance when the data exceed its ``StreamMaxLength``).

The two PyPI clients (``clamd``, ``pyclamd``) are LGPL and unmaintained since
2014 and 2017; the part we need is these few lines.
"""

from __future__ import annotations

import socket
import struct
from typing import IO
from urllib.parse import urlsplit

CHUNK_SIZE = 64 * 1024
_MAX_REPLY = 4096


class ClamdUnavailable(Exception):
    """clamd could not be reached, timed out, or answered something other than a verdict."""


def _connect(url: str, timeout: float) -> socket.socket:
    parts = urlsplit(url)
    try:
        if parts.scheme == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(parts.path)
            return sock
        if parts.scheme == "tcp" and parts.hostname:
            return socket.create_connection((parts.hostname, parts.port or 3310), timeout=timeout)
    except OSError as exc:
        raise ClamdUnavailable(f"cannot connect to clamd at {url}: {exc}") from exc
    raise ClamdUnavailable(f"unsupported clamd URL {url!r}")


def _send_stream(sock: socket.socket, stream: IO[bytes]) -> None:
    sock.sendall(b"zINSTREAM\0")
    while chunk := stream.read(CHUNK_SIZE):
        sock.sendall(struct.pack(">I", len(chunk)) + chunk)
    sock.sendall(struct.pack(">I", 0))


def _read_reply(sock: socket.socket) -> str:
    reply = b""
    while not reply.endswith(b"\0") and len(reply) < _MAX_REPLY:
        data = sock.recv(_MAX_REPLY)
        if not data:
            break
        reply += data
    return reply.rstrip(b"\0\n").decode("utf-8", "replace").strip()


def instream(url: str, stream: IO[bytes], *, timeout: float) -> str | None:
    """Scan ``stream`` (read to its end) with the clamd at ``url``.

    Returns None when clamd says the data are clean, the signature name when it
    found something, and raises ``ClamdUnavailable`` otherwise, so that a caller
    can never mistake a failed scan for a clean one.
    """
    sock = _connect(url, timeout)
    try:
        _send_stream(sock, stream)
        reply = _read_reply(sock)
    except OSError as exc:  # timeouts included; a full clamd may also reset the connection
        raise ClamdUnavailable(f"clamd at {url} failed during the scan: {exc}") from exc
    finally:
        sock.close()
    if reply == "stream: OK":
        return None
    if reply.startswith("stream: ") and reply.endswith(" FOUND"):
        return reply.removeprefix("stream: ").removesuffix(" FOUND").strip() or "unknown"
    raise ClamdUnavailable(f"clamd at {url} answered {reply!r}")
