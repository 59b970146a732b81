"""The oauthlib server: authorization code with PKCE S256, refresh tokens, nothing else.

oauthlib's OpenID Connect server also offers the implicit and hybrid flows, the
password, client-credentials and device grants, and accepts PKCE's ``plain``
method (and assumes it when ``code_challenge_method`` is missing). Here the
authorization endpoint knows only ``response_type=code``, the token endpoint only
``authorization_code`` and ``refresh_token``, and a challenge must be S256: a
request with ``plain`` or without a method is refused at the authorization
endpoint, before anyone is asked anything.
"""

from __future__ import annotations

from typing import Any

from oauthlib.oauth2.rfc6749.grant_types.authorization_code import code_challenge_method_s256
from oauthlib.openid import Server as OpenIDServer

S256_ONLY = {"S256": code_challenge_method_s256}


class Server(OpenIDServer):
    def __init__(self, request_validator: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(request_validator, *args, **kwargs)
        # The OpenID grant delegates its checks to an OAuth 2.0 grant (proxy_target).
        for grant in (self.auth_grant, self.openid_connect_auth.proxy_target):
            grant._code_challenge_methods = S256_ONLY
        self._response_types = {"code": self.auth_grant_choice}
        self._grant_types = {
            "authorization_code": self.token_grant_choice,
            "refresh_token": self.refresh_grant,
        }
