"""The relying parties the simulators know: one demo client per provider.

The real services register each client (service provider, *fournisseur de
service*) by hand, with the exact redirect URIs it may use after login and
after logout. The simulators do the same in code, for the relying parties
Alzette will have at ``/accounts/franceconnect/`` and ``/accounts/proconnect/``,
served by ``alzette demo`` or ``alzette serve`` on port 8000.

Loopback origins: besides the exact URIs below, a demo client also accepts the
same *paths* on ``http://127.0.0.1:<any port>``, ``http://localhost:<any port>``
and ``http://[::1]:<any port>``. Tests run the platform on a random port
(pytest-django's ``live_server``) and developers sometimes use another port;
this rule lets both work without registering anything. It is acceptable in a
simulator only: the simulator never runs in production, its demo secrets are
public anyway, and a loopback redirect never leaves the machine. RFC 8252
(section 7.3) asks the same port flexibility of authorization servers for
loopback redirects of native apps. The real FranceConnect and ProConnect
compare redirect URIs exactly, port and trailing slash included.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

FRANCECONNECT = "franceconnect"
PROCONNECT = "proconnect"

# The origins of `alzette demo` and `alzette serve` with their default port.
DEMO_ORIGINS = ("http://127.0.0.1:8000", "http://localhost:8000")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Client:
    """A registered relying party. The secret is public: these are demo clients."""

    provider: str
    client_id: str
    client_secret: str
    name: str
    redirect_paths: tuple[str, ...]
    post_logout_redirect_paths: tuple[str, ...]
    allow_loopback_ports: bool = True

    @property
    def redirect_uris(self) -> tuple[str, ...]:
        return tuple(origin + path for origin in DEMO_ORIGINS for path in self.redirect_paths)

    @property
    def post_logout_redirect_uris(self) -> tuple[str, ...]:
        return tuple(
            origin + path for origin in DEMO_ORIGINS for path in self.post_logout_redirect_paths
        )

    def accepts_redirect_uri(self, uri: str) -> bool:
        return self._accepts(uri, self.redirect_uris, self.redirect_paths)

    def accepts_post_logout_redirect_uri(self, uri: str) -> bool:
        return self._accepts(uri, self.post_logout_redirect_uris, self.post_logout_redirect_paths)

    def _accepts(self, uri: str, exact: tuple[str, ...], paths: tuple[str, ...]) -> bool:
        if not uri:
            return False
        if uri in exact:
            return True
        return self.allow_loopback_ports and _is_loopback_uri_with_path(uri, paths)


def _is_loopback_uri_with_path(uri: str, paths: tuple[str, ...]) -> bool:
    """True for ``http://<loopback>:<port><registered path>``, with nothing else."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == "http"
        and parts.hostname in LOOPBACK_HOSTS
        and port is not None
        and not parts.username
        and not parts.password
        and parts.path in paths
        and not parts.query
        and not parts.fragment
    )


CLIENTS: dict[str, dict[str, Client]] = {
    FRANCECONNECT: {
        client.client_id: client
        for client in (
            Client(
                provider=FRANCECONNECT,
                client_id="alzette-demo-franceconnect",
                client_secret="alzette-demo-franceconnect-secret-not-for-production",  # noqa: S106
                name="Alzette",
                redirect_paths=("/accounts/franceconnect/callback/",),
                post_logout_redirect_paths=("/accounts/franceconnect/logout/callback/",),
            ),
        )
    },
    PROCONNECT: {
        client.client_id: client
        for client in (
            Client(
                provider=PROCONNECT,
                client_id="alzette-demo-proconnect",
                client_secret="alzette-demo-proconnect-secret-not-for-production",  # noqa: S106
                name="Alzette",
                redirect_paths=("/accounts/proconnect/callback/",),
                post_logout_redirect_paths=("/accounts/proconnect/logout/callback/",),
            ),
        )
    },
}


def get_client(provider: str, client_id: str) -> Client | None:
    return CLIENTS.get(provider, {}).get(client_id)


def demo_client(provider: str) -> Client:
    """The one demo client of ``provider``."""
    return next(iter(CLIENTS[provider].values()))
