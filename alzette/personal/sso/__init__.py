"""The platform as OpenID Provider: single sign-on into third-party services."""
