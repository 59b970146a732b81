"""E-mail to people in their own language.

Mails are often sent outside any request (a scheduled job, a device's message, a
commit hook), or inside another person's request (an agent deciding on a
citizen's file): the active language is then the default one, or the wrong
person's. ``send_in_language`` renders each message inside
``translation.override`` of its recipients' language, falling back to
``settings.LANGUAGE_CODE`` when they chose none (or one the platform no longer
offers), and sends one message per language, so nobody reads another's.

Both repositories use it, so it imports neither. Territory senders only know
plain addresses (operators' addresses from the settings): the accounts app
registers a look-up in ``address_language_lookups`` that answers the language of
the addresses that belong to accounts, and nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation

log = logging.getLogger(__name__)

#: Builds ``(subject, body)``; called inside the recipients' language.
Build = Callable[[], tuple[str, str]]
#: An address and its holder's language ("" or None: not chosen).
Recipient = tuple[str, str | None]
#: Takes addresses, returns the language of those it knows (address -> code).
AddressLanguageLookup = Callable[[Sequence[str]], Mapping[str, str]]

#: Filled by the personal side's accounts app (``AccountsConfig.ready``).
address_language_lookups: list[AddressLanguageLookup] = []


def language_or_default(language: str | None) -> str:
    """``language`` if the platform offers it, else the platform's default."""
    offered = {code for code, _name in settings.LANGUAGES}
    return language if language in offered else settings.LANGUAGE_CODE


def render_in_language(language: str | None, build: Build) -> tuple[str, str]:
    """``build()`` in ``language`` (or the default), as plain strings, not lazy ones
    that would be translated again, in whatever language is active, when sent."""
    with translation.override(language_or_default(language)):
        subject, body = build()
        return str(subject), str(body)


def send_in_language(
    recipients: Iterable[Recipient],
    build: Build,
    *,
    context: str = "",
    send: Callable[..., Any] | None = None,
    unsent: list[Recipient] | None = None,
) -> int:
    """Send ``build()`` to each recipient in their language: one message per language,
    with that language's recipients. Returns how many addresses were written to.

    A failing mail server is logged (with ``context``), never raised: callers send
    after their own work is done, and the in-app record stands for the message.
    ``send`` replaces ``django.core.mail.send_mail`` (same signature). A caller that
    retries passes ``unsent``: the recipients of the messages that failed are added
    to it.
    """
    send = send or send_mail
    sent = 0
    for language, addresses in _by_language(recipients).items():
        subject, body = render_in_language(language, build)
        try:
            send(subject, body, None, addresses)
        except Exception:  # the mail server's problem must not undo the caller's work
            log.exception("e-mail (%s) in %s not sent", context or "no context", language)
            if unsent is not None:
                unsent.extend((address, language) for address in addresses)
            continue
        sent += len(addresses)
    return sent


def languages_of(addresses: Iterable[str]) -> list[Recipient]:
    """Plain addresses with their holders' languages, as the registered look-ups know
    them (None for an address no look-up knows, or when a look-up fails: the message
    then goes out in the default language rather than not at all)."""
    wanted = [address for address in dict.fromkeys(addresses) if address]
    known: dict[str, str] = {}
    for lookup in address_language_lookups:
        missing = [address for address in wanted if address not in known]
        if not missing:
            break
        try:
            found = lookup(missing)
        except Exception:  # e.g. the personal database unreachable from this process
            log.exception("language look-up %r failed", lookup)
            continue
        known.update({a: code for a, code in found.items() if a in missing and code})
    return [(address, known.get(address)) for address in wanted]


def _by_language(recipients: Iterable[Recipient]) -> dict[str, list[str]]:
    groups: dict[str, set[str]] = {}
    for address, language in recipients:
        if address:
            groups.setdefault(language_or_default(language), set()).add(address)
    return {language: sorted(groups[language]) for language in sorted(groups)}
