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
