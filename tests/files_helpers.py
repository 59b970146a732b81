"""Sample files, a storage of the test's own and a fake clamd for the attachments tests."""

from __future__ import annotations

import io
import socket
import socketserver
import struct
import threading
from pathlib import Path

from PIL import Image

# The standard antivirus test file: every antivirus reports it, it does nothing.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
EICAR_SIGNATURE = "Eicar-Test-Signature"


def png_bytes(size: tuple[int, int] = (4, 4)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (30, 30, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def pdf_bytes(extra: bytes = b"") -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + extra + b"\n%%EOF\n"


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def use_attachments_dir(settings, location: Path) -> Path:
    """Point the attachments storage at ``location`` and turn the antivirus off."""
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
    settings.ALZETTE_CLAMD_URL = ""
    return location


def stored_paths(location: Path) -> list[Path]:
    return sorted(path for path in location.rglob("*") if path.is_file())


class CountingStream(io.RawIOBase):
    """An endless upload that counts what is read from it and refuses unbounded reads."""

    def __init__(self) -> None:
        super().__init__()
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        assert size is not None and size >= 0, "an unbounded read of an upload"
        self.bytes_read += size
        return b"%PDF" + b"\0" * (size - 4) if self.bytes_read == size else b"\0" * size


class _ClamdHandler(socketserver.BaseRequestHandler):
    """Speaks clamd's INSTREAM: reports EICAR anywhere in the data, OK otherwise."""

    def _read_exact(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.request.recv(size - len(data))
            if not chunk:
                raise ConnectionError("client went away")
            data += chunk
        return data

    def handle(self) -> None:
        server: FakeClamdServer = self.server.owner  # type: ignore[attr-defined]
        command = self._read_exact(len(b"zINSTREAM\0"))
        server.commands.append(command)
        if server.silent:
            server.release.wait(10)
            return
        data, chunks = b"", []
        while length := struct.unpack(">I", self._read_exact(4))[0]:
            chunks.append(length)
            data += self._read_exact(length)
        server.streams.append(data)
        server.chunk_sizes.append(chunks)
        if server.reply is not None:
            reply = server.reply
        elif b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE" in data:
            reply = f"stream: {EICAR_SIGNATURE} FOUND"
        else:
            reply = "stream: OK"
        self.request.sendall(reply.encode() + b"\0")


class FakeClamdServer:
    """A real socket server (TCP, or Unix when given a path) in a thread."""

    def __init__(self, unix_path: Path | None = None) -> None:
        self.commands: list[bytes] = []
        self.streams: list[bytes] = []
        self.chunk_sizes: list[list[int]] = []
        self.reply: str | None = None  # force an answer (e.g. an ERROR line)
        self.silent = False  # accept, then never answer (timeouts)
        self.release = threading.Event()
        if unix_path is None:
            self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _ClamdHandler)
            self.url = f"tcp://127.0.0.1:{self._server.server_address[1]}"
        else:
            self._server = socketserver.ThreadingUnixStreamServer(str(unix_path), _ClamdHandler)
            self.url = f"unix://{unix_path}"
        self._server.daemon_threads = True
        self._server.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeClamdServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


def closed_port_url() -> str:
    """A tcp:// URL where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"tcp://127.0.0.1:{port}"
