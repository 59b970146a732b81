"""Checks on where the platform sends requests of its own (webhooks, notifications)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


def reaches_only_public_addresses(url: str) -> bool:
    """Whether every address the URL's host resolves to is public: the platform must not
    be made to post into its own network (loopback, private, link-local ranges)."""
    host = urlsplit(url).hostname
    if not host:
        return False
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return False
    return all(ipaddress.ip_address(info[4][0]).is_global for info in infos)
