"""The service store, the domain: browse, activate, submit, moderate.

No HTTP here (the "Domain modules import no HTTP framework" contract covers this
module); the views and the dashboard widget call these functions. Every write
is atomic and what matters to trust is recorded in the ledger: activations and
consents for the person, moderation decisions for the agent.
"""

from __future__ import annotations

import io
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_secret
from PIL import Image, UnidentifiedImageError

from alzette.core.repositories import PERSONAL
from alzette.personal.accounts.models import OrganisationalUnit
from alzette.personal.mydata.services import record_receipt
from alzette.personal.sso import services as sso
from alzette.personal.sso.models import Consent
from alzette.personal.store.models import Activation, Provider, Service, Status

#: Logos are re-encoded to PNG, at most this many pixels a side (what the store shows).
LOGO_SIZE = 256
#: Uploads larger than this are refused before decoding.
LOGO_MAX_BYTES = 1024 * 1024
LOGO_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF"})


# --- Browsing ------------------------------------------------------------------


def _folded(text: str) -> str:
    """Lower-case, accents removed: "Déchets" and "dechets" match."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _haystack(service: Service) -> str:
    texts: list[str] = [service.slug, service.provider.name]
    for field in (service.name, service.summary, service.description):
        texts.extend(field.values())
    return _folded(" ".join(texts))


def catalogue(
    query: str = "", theme: str = "", commune: OrganisationalUnit | None = None
) -> list[Service]:
    """Published services matching every word of ``query`` (in any language, accents
    ignored), of ``theme`` and serving ``commune`` (or the whole territory)."""
    services = Service.objects.published().serving(commune).select_related("provider")
    if theme:
        services = services.filter(theme=theme)
    words = _folded(query).split()
    # The store holds tens to hundreds of services: matching in Python keeps the search
    # accent- and language-insensitive on SQLite and PostgreSQL alike.
    found = [service for service in services if all(word in _haystack(service) for word in words)]
    return sorted(found, key=lambda service: _folded(service.local_name()))


def active_service_ids(user: Any) -> set[Any]:
    """The ids of the services ``user`` has activated (consented to, or kept at hand)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    consented = Service.objects.filter(application__sso_consents__user=user)
    kept = Activation.objects.filter(user=user)
    return set(consented.values_list("pk", flat=True)) | set(
        kept.values_list("service_id", flat=True)
    )


def is_active(user: Any, service: Service) -> bool:
    return service.pk in active_service_ids(user)


@dataclass(frozen=True)
class ActiveService:
    service: Service | None  # None: a single sign-on client that is not in the store
    name: str
    since: Any
    url: str
    consent: Consent | None


def active_services(user: Any) -> list[ActiveService]:
    """What ``user`` activated, by name: store services, and services they signed in to
    without going through the store (a consent given on the consent screen)."""
    found: list[ActiveService] = []
    consents = Consent.objects.filter(user=user).select_related("application")
    in_store = {
        service.application_id: service
        for service in Service.objects.filter(
            application__in=[consent.application for consent in consents]
        ).select_related("provider")
    }
    for consent in consents:
        service = in_store.get(consent.application.pk)
        name = service.local_name() if service else sso.service_label(consent.application)
        url = service.web_url if service else ""
        found.append(ActiveService(service, name, consent.created_at, url, consent))
    for activation in Activation.objects.filter(user=user).select_related("service__provider"):
        service = activation.service
        found.append(
            ActiveService(
                service, service.local_name(), activation.created_at, service.web_url, None
            )
        )
    return sorted(found, key=lambda item: _folded(item.name))


def requested_scopes(service: Service) -> list[str]:
    """The scopes activating ``service`` consents to (none for a link-only service)."""
    if not service.signs_in:
        return []
    return sso.allowed_scopes(service.application)


# --- Activation ------------------------------------------------------------------


def _ref(service: Service) -> str:
    return f"store-service:{service.pk}"


def activate(user: Any, service: Service) -> None:
    """Activate ``service`` for ``user``: consent to its scopes when it signs people
    in (``consent.given``), else keep it at hand (``service.activated``)."""
    if not service.get_abilities(user)["activate"]:
        raise PermissionDenied(_("This service cannot be activated."))
    if service.signs_in:
        sso.give_consent(user, service.application, requested_scopes(service))
        return
    with transaction.atomic(using=PERSONAL):
        _activation, created = Activation.objects.get_or_create(user=user, service=service)
        if created:
            record_receipt(
                user, "service.activated", _ref(service), {"service": service.local_name()}
            )


def deactivate(user: Any, service: Service) -> bool:
    """Deactivate ``service`` for ``user``; withdrawing the consent revokes the
    service's tokens. False when it was not active."""
    if service.signs_in:
        consent = Consent.objects.filter(user=user, application=service.application).first()
        if consent is None:
            return False
        sso.withdraw_consent(user, consent.pk)
        return True
    with transaction.atomic(using=PERSONAL):
        deleted, _rows = Activation.objects.filter(user=user, service=service).delete()
        if deleted:
            record_receipt(
                user, "service.deactivated", _ref(service), {"service": service.local_name()}
            )
    return bool(deleted)


# --- Logos -------------------------------------------------------------------


def logo_png(upload: IO[bytes], size: int | None = None) -> bytes:
    """Check an uploaded image and return a PNG re-encoding of it, at most LOGO_SIZE a side.

    Re-encoding drops metadata and anything hidden after the image data; SVG is not
    accepted (it can carry scripts).
    """
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    if size > LOGO_MAX_BYTES:
        raise ValidationError(
            _("The logo is too large (%(size)d KB at most).") % {"size": LOGO_MAX_BYTES // 1024}
        )
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            if image.format not in LOGO_FORMATS:
                raise ValidationError(_("The logo must be a PNG, JPEG, WebP or GIF image."))
            image.load()
            picture = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValidationError(_("The logo is not a readable image.")) from exc
    picture.thumbnail((LOGO_SIZE, LOGO_SIZE))
    output = io.BytesIO()
    picture.save(output, format="PNG", optimize=True)
    return output.getvalue()


def replace_logo(instance: Provider | Service, png: bytes | None) -> None:
    """Keep ``png`` (from ``logo_png``) as the logo of ``instance`` (not saved here);
    the old file is deleted once the transaction commits."""
    if not png:
        return
    old = instance.logo
    instance.logo = default_storage.save(f"store/logos/{uuid.uuid4().hex}.png", ContentFile(png))
    if old:
        transaction.on_commit(lambda: default_storage.delete(old), using=PERSONAL)


# --- Submission and moderation ------------------------------------------------------


def _require(service: Service, actor: Any, ability: str) -> None:
    if not service.get_abilities(actor).get(ability):
        raise PermissionDenied(_("You may not do this with this service."))


def save_draft(actor: Any, service: Service, communes: Iterable[OrganisationalUnit]) -> Service:
    """Create or update a service as a draft of its provider; PermissionDenied otherwise."""
    from alzette.personal.store.authz import manages

    if not manages(actor, service.provider):
        raise PermissionDenied(_("You do not manage services for this provider."))
    if service.pk and not service._state.adding:
        _require(service, actor, "edit")
    with transaction.atomic(using=PERSONAL):
        if service._state.adding:
            service.status = Status.DRAFT
        service.save()
        service.communes.set(communes)
    return service


def submit(actor: Any, service: Service) -> Service:
    """Send a draft (or a rejected or withdrawn service) to moderation."""
    _require(service, actor, "submit")
    service.status = Status.SUBMITTED
    service.submitted_by = actor
    service.submitted_at = timezone.now()
    service.moderation_note = ""
    service.save()
    return service


def _decide(moderator: Any, service: Service, status: str, kind: str, note: str) -> None:
    service.status = status
    service.moderated_by = moderator
    service.moderated_at = timezone.now()
    service.moderation_note = note.strip()
    service.save()
    record_receipt(
        moderator,
        kind,
        _ref(service),
        {
            "service": service.slug,
            "provider": service.provider.slug,
            "note": service.moderation_note,
        },
    )


def approve(moderator: Any, service: Service, note: str = "") -> Service:
    """Publish a submitted service. One that asked for single sign-on gets its
    OpenID Connect client; the moderator never sees its secret: the provider asks
    for one on its page (``new_client_secret``)."""
    _require(service, moderator, "moderate")
    with transaction.atomic(using=PERSONAL):
        if service.redirect_uris.strip() and not service.signs_in:
            registration = sso.register_client(
                service.local_name(),
                service.redirect_uris.split(),
                scopes=["openid", *service.requested_scopes.split()],
            )
            service.application = registration.application
        _decide(moderator, service, Status.PUBLISHED, "store_service.published", note)
    return service


def reject(moderator: Any, service: Service, note: str) -> Service:
    """Send a submitted service back to its provider with the reason."""
    _require(service, moderator, "moderate")
    if not note.strip():
        raise ValidationError({"note": _("Tell the provider why the service is rejected.")})
    with transaction.atomic(using=PERSONAL):
        _decide(moderator, service, Status.REJECTED, "store_service.rejected", note)
    return service


def withdraw(actor: Any, service: Service) -> Service:
    """The provider takes its service out of the store (people keep their consents
    until they withdraw them; the service no longer appears)."""
    _require(service, actor, "withdraw")
    with transaction.atomic(using=PERSONAL):
        service.status = Status.WITHDRAWN
        service.save()
        record_receipt(
            actor,
            "store_service.withdrawn",
            _ref(service),
            {"service": service.slug, "provider": service.provider.slug},
        )
    return service


def new_client_secret(actor: Any, service: Service) -> str:
    """Give the provider a new client secret (shown once; the old one stops working)."""
    _require(service, actor, "credentials")
    application = service.application
    secret = generate_client_secret()
    application.client_secret = secret
    application.hash_client_secret = True
    application.save()
    return secret
