"""factory_boy factories for the personas the tests name."""

from __future__ import annotations

import factory
import pyotp
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP

from alzette.personal.accounts.models import Role, User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    role = Role.CITIZEN
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        self.save()
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)

    @factory.post_generation
    def second_factor(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        """Agents and administrators get a TOTP authenticator unless told otherwise;
        its secret is kept on the object so tests can compute codes (pyotp)."""
        self.totp_secret = None
        if create and self.requires_second_factor and extracted is not False:
            self.totp_secret = pyotp.random_base32()
            TOTP.activate(self, self.totp_secret)


def store_provider(slug: str, kind: str, *, unit_code: str = "", organisation=None):
    """A service-store provider; ``unit_code`` ties it to an organisational unit."""
    from alzette.personal.accounts.models import OrganisationalUnit
    from alzette.personal.store.models import Provider

    return Provider.objects.create(
        slug=slug,
        name=slug.replace("-", " ").title(),
        kind=kind,
        unit=OrganisationalUnit.objects.get(code=unit_code) if unit_code else None,
        organisation=organisation,
    )


def store_service(provider, slug: str, *, status: str = "published", communes=(), **fields):
    """A service of ``provider``; French and English texts; a link unless ``application``."""
    from alzette.personal.accounts.models import OrganisationalUnit
    from alzette.personal.store.models import Service

    defaults = {
        "name": {"fr": f"Service {slug}", "en": f"Service {slug} (en)"},
        "summary": {"fr": "Résumé en français", "en": "Summary in English"},
        "description": {"fr": "Description détaillée"},
        "theme": "mobility",
        "web_url": f"https://{slug}.example.org/",
    }
    service = Service.objects.create(
        provider=provider, slug=slug, status=status, **{**defaults, **fields}
    )
    service.communes.set(OrganisationalUnit.objects.filter(code__in=communes))
    return service
