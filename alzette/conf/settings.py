"""Django settings for Alzette, read from the environment (see docs/operations.md).

Three modes:
- ``development`` (default): DEBUG on, embedded SQLite, console e-mail.
- ``demo``: what ``alzette demo`` runs; DEBUG off, embedded SQLite, console e-mail.
- ``production``: refuses DEBUG, a missing or weak secret key and insecure
  settings, and turns on every protection Django's deploy checks ask for.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import xstatic.pkg.leaflet as xstatic_leaflet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from alzette.conf.env import env_bool, env_choice, env_int, env_list, env_pairs, env_str
from alzette.core.db import alias_default_to_personal, database_config
from alzette.core.logging import logging_config
from alzette.personal.files.conf import attachments_storage, clamd_url
from alzette.personal.sso.conf import oauth2_provider_settings

PACKAGE_DIR = Path(__file__).resolve().parent.parent

ALZETTE_MODE = env_choice("ALZETTE_MODE", ("development", "demo", "production"), "development")
PRODUCTION = ALZETTE_MODE == "production"

DEBUG = env_bool("ALZETTE_DEBUG", ALZETTE_MODE == "development")

# The data directory holds the embedded databases and uploaded files.
DATA_DIR = Path(env_str("ALZETTE_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

_INSECURE_KEY = "django-insecure-alzette-development-key-never-use-in-production-0123456789"
SECRET_KEY = env_str("ALZETTE_SECRET_KEY") or ("" if PRODUCTION else _INSECURE_KEY)

ALLOWED_HOSTS = env_list(
    "ALZETTE_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("ALZETTE_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "alzette.core",
    # Pages first: its templates override those of the libraries below (allauth).
    "alzette.web",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "ninja",
    "django_prometheus",
    "huey.contrib.djhuey",
    # Personal repository.
    "alzette.personal.accounts",
    "alzette.personal.identity",
    "alzette.personal.mydata",
    "alzette.personal.files",
    "alzette.personal.sso",
    "alzette.personal.dashboard",
    "alzette.personal.store",
    "alzette.personal.procedures",
    "alzette.personal.payments",
    "alzette.personal.households",
    "alzette.personal.homewater",
    "oauth2_provider",
    # Territory repository.
    "alzette.territory.geo",
    "alzette.territory.events",
    "alzette.territory.onem2m",
    "alzette.territory.ngsild",
    "alzette.territory.documents",
    "alzette.territory.catalogue",
    "alzette.territory.partners",
    "alzette.territory.supervision",
    "alzette.territory.hypervision",
    "alzette.territory.indicators",
    "alzette.territory.waste",
    "alzette.territory.waste.rounds",
    "alzette.territory.waste.dumping",
    "alzette.territory.lighting",
    "alzette.territory.lighting.commands",
    "alzette.territory.lighting.energy",
    "alzette.territory.lighting.repairs",
    "alzette.territory.water",
    "alzette.personal.developers",
    # The anonymisation bridge (no models): personal data reaches the territory only here.
    "alzette.bridge",
    # The ledger, in its own database.
    "alzette.ledger",
    # The API assembly (no models).
    "alzette.api",
    # Reversibility: alzette export / import of an organisation (no models).
    "alzette.portability",
]
# FranceConnect and ProConnect simulators: never installed in production.
ALZETTE_DEV_IDP = not PRODUCTION
if ALZETTE_DEV_IDP:
    INSTALLED_APPS.append("alzette.devidp")

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "alzette.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "alzette.core.middleware.ApiProblemMiddleware",
    "alzette.territory.partners.middleware.PartnerMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "alzette.personal.accounts.middleware.RequireSecondFactorMiddleware",
    "alzette.personal.accounts.middleware.PreferredLanguageMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "alzette.conf.urls"
CSRF_FAILURE_VIEW = "alzette.web.errors.csrf_failure"
WSGI_APPLICATION = "alzette.conf.wsgi.application"
ASGI_APPLICATION = "alzette.conf.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "alzette.web.context_processors.platform",
                "alzette.personal.identity.context_processors.identity_providers",
            ],
        },
    },
]

# --- The two repositories -------------------------------------------------
# Persistent connections are off by default: Django advises against them under ASGI.
_CONN_MAX_AGE = env_int("ALZETTE_DB_CONN_MAX_AGE", 0)
# A psycopg pool per PostgreSQL database and process (0: none), see docs/operations.md.
_POOL_SIZE = env_int("ALZETTE_DB_POOL_SIZE", 0)
DATABASES = {
    "personal": database_config(
        "ALZETTE_PERSONAL_DATABASE_URL",
        env_str("ALZETTE_PERSONAL_DATABASE_URL"),
        DATA_DIR / "personal.sqlite3",
        _CONN_MAX_AGE,
        _POOL_SIZE,
    ),
    "territory": database_config(
        "ALZETTE_TERRITORY_DATABASE_URL",
        env_str("ALZETTE_TERRITORY_DATABASE_URL"),
        DATA_DIR / "territory.sqlite3",
        _CONN_MAX_AGE,
        _POOL_SIZE,
    ),
    "ledger": database_config(
        "ALZETTE_LEDGER_DATABASE_URL",
        env_str("ALZETTE_LEDGER_DATABASE_URL"),
        DATA_DIR / "ledger.sqlite3",
        _CONN_MAX_AGE,
        _POOL_SIZE,
    ),
}
# "default" is the personal connection itself (alzette.core.db explains why).
# Installed here, before apps load, because model classes touch "default" on import.
DATABASES["default"] = dict(DATABASES["personal"])
alias_default_to_personal()
DATABASE_ROUTERS = ["alzette.core.routers.RepositoryRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: shared between app servers (database, or Redis when configured) --
_REDIS_URL = env_str("ALZETTE_REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _REDIS_URL}
        if _REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "alzette_cache",
            # Django's default (300) would cull live rate-limit counters and sign-in codes.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    )
}

# --- Background worker: Huey (docs/adr/0010-worker-huey.md) ------------------
# SQLite file by default, the shared Redis when configured. Never "immediate":
# djhuey would turn it on with DEBUG, and scheduled work would then never run.
HUEY = {
    "name": "alzette",
    "huey_class": "huey.RedisHuey" if _REDIS_URL else "huey.SqliteHuey",
    "immediate": False,
    "utc": True,
    **({"url": _REDIS_URL} if _REDIS_URL else {"filename": str(DATA_DIR / "tasks.sqlite3")}),
    "consumer": {"workers": 2, "worker_type": "thread", "check_worker_health": True},
}
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Accounts -------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Alzette] "
ACCOUNT_RATE_LIMITS = {
    # Failed logins: 5 per minute per IP, 5 per 5 minutes per account.
    "login_failed": env_str("ALZETTE_LOGIN_RATE_LIMIT", "5/m/ip,5/5m/key"),
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}

# Second factor: TOTP (any authenticator app) with recovery codes; mandatory for
# agents and administrators (alzette.personal.accounts.middleware).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Alzette"
MFA_RECOVERY_CODE_COUNT = 10

EMAIL_BACKEND = env_str(
    "ALZETTE_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("ALZETTE_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("ALZETTE_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("ALZETTE_EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("ALZETTE_EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("ALZETTE_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("ALZETTE_DEFAULT_FROM_EMAIL", "Alzette <no-reply@alzette.localhost>")

# --- Languages: the interface defaults to French ---------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [
    ("fr", _("French")),
    ("de", _("German")),
    ("lb", _("Luxembourgish")),
    ("en", _("English")),
    ("pt", _("Portuguese")),
]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static files: served by the app itself through WhiteNoise ------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [("leaflet", xstatic_leaflet.BASE_DIR)]
STATIC_ROOT = Path(env_str("ALZETTE_STATIC_ROOT", str(DATA_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "media")},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    # Attachments of procedures (personal data): a directory, or an S3-compatible bucket.
    "attachments": attachments_storage(
        data_dir=DATA_DIR,
        bucket=env_str("ALZETTE_ATTACHMENTS_S3_BUCKET"),
        endpoint_url=env_str("ALZETTE_ATTACHMENTS_S3_ENDPOINT_URL"),
        region=env_str("ALZETTE_ATTACHMENTS_S3_REGION"),
        access_key=env_str("ALZETTE_ATTACHMENTS_S3_ACCESS_KEY"),
        secret_key=env_str("ALZETTE_ATTACHMENTS_S3_SECRET_KEY"),
        addressing_style=env_str("ALZETTE_ATTACHMENTS_S3_ADDRESSING_STYLE", "path"),
    ),
}
WHITENOISE_USE_FINDERS = not PRODUCTION  # demo/dev serve without collectstatic

# --- Request limits (bodies above are refused with 413) --------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("ALZETTE_MAX_BODY_BYTES", 1_048_576)

# --- Antivirus for attachments (docs/files.md) --------------------------------
# clamd's INSTREAM command over tcp://host:port or unix:///path. When set and
# required (the default in production), an upload is refused rather than stored
# unscanned if clamd does not answer.
ALZETTE_CLAMD_URL = clamd_url(env_str("ALZETTE_CLAMD_URL"))
ALZETTE_CLAMD_REQUIRED = env_bool("ALZETTE_CLAMD_REQUIRED", PRODUCTION)
ALZETTE_CLAMD_TIMEOUT = env_int("ALZETTE_CLAMD_TIMEOUT", 30)

# --- Map of the home page --------------------------------------------------
# Background tiles are optional: the communes are drawn from our own data, so
# the map stays useful when no tile server is reachable (or when this is empty).
ALZETTE_MAP_TILE_URL = env_str(
    "ALZETTE_MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
)
ALZETTE_MAP_ATTRIBUTION = env_str("ALZETTE_MAP_ATTRIBUTION", "&copy; OpenStreetMap contributors")

# --- Server (alzette serve) -----------------------------------------------
ALZETTE_HOST = env_str("ALZETTE_HOST", "127.0.0.1")
ALZETTE_PORT = env_int("ALZETTE_PORT", 8000)
ALZETTE_WORKERS = env_int("ALZETTE_WORKERS", os.cpu_count() or 1)
ALZETTE_FORWARDED_ALLOW_IPS = env_str("ALZETTE_FORWARDED_ALLOW_IPS", "127.0.0.1")

# --- Identity federation (docs/identity.md) ----------------------------------
# Outside production, an empty issuer means the built-in simulator of the same
# origin (/dev-idp/...), with its demo client. In production a provider is
# offered only when its issuer, client id and secret are all set.
_DEMO_IDP = not PRODUCTION
ALZETTE_FRANCECONNECT_ISSUER = env_str("ALZETTE_FRANCECONNECT_ISSUER")
ALZETTE_FRANCECONNECT_CLIENT_ID = env_str(
    "ALZETTE_FRANCECONNECT_CLIENT_ID", "alzette-demo-franceconnect" if _DEMO_IDP else ""
)
ALZETTE_FRANCECONNECT_CLIENT_SECRET = env_str(
    "ALZETTE_FRANCECONNECT_CLIENT_SECRET",
    "alzette-demo-franceconnect-secret-not-for-production" if _DEMO_IDP else "",
)
ALZETTE_FRANCECONNECT_SCOPES = env_str(
    "ALZETTE_FRANCECONNECT_SCOPES", "openid identite_pivot email"
)
ALZETTE_FRANCECONNECT_ACR = env_str("ALZETTE_FRANCECONNECT_ACR", "eidas1")
ALZETTE_PROCONNECT_ISSUER = env_str("ALZETTE_PROCONNECT_ISSUER")
ALZETTE_PROCONNECT_CLIENT_ID = env_str(
    "ALZETTE_PROCONNECT_CLIENT_ID", "alzette-demo-proconnect" if _DEMO_IDP else ""
)
ALZETTE_PROCONNECT_CLIENT_SECRET = env_str(
    "ALZETTE_PROCONNECT_CLIENT_SECRET",
    "alzette-demo-proconnect-secret-not-for-production" if _DEMO_IDP else "",
)
ALZETTE_PROCONNECT_SCOPES = env_str(
    "ALZETTE_PROCONNECT_SCOPES", "openid email given_name usual_name uid siret"
)
ALZETTE_PROCONNECT_ACR = env_str("ALZETTE_PROCONNECT_ACR", "eidas1")
# "domain=unit code" pairs: agents with an address of these domains may enter
# through ProConnect and join that unit; anyone else must be pre-provisioned.
ALZETTE_PROCONNECT_DOMAINS = dict(
    pair.split("=", 1)
    for pair in env_list(
        "ALZETTE_PROCONNECT_DOMAINS",
        ["mairie-villerupt.fr=54580", "mairie-audun-le-tiche.fr=57038"] if _DEMO_IDP else [],
    )
    if "=" in pair
)

# --- The platform as OpenID Provider (django-oauth-toolkit, docs/sso.md) -----
# RS256 key signing ID tokens (PEM text, or a file holding it) and the secret the
# pairwise subject identifiers are derived from (never change it). Outside
# production both are generated into the data directory on first use.
ALZETTE_SSO_SIGNING_KEY = env_str("ALZETTE_SSO_SIGNING_KEY")
ALZETTE_SSO_SIGNING_KEY_FILE = env_str("ALZETTE_SSO_SIGNING_KEY_FILE")
# Retired signing keys, still published so that ID tokens they signed verify (one or
# more PEM blocks, or a file holding them). Outside production, when both are empty,
# those `alzette sso rotate-key` keeps in the data directory.
ALZETTE_SSO_SIGNING_KEYS_INACTIVE = env_str("ALZETTE_SSO_SIGNING_KEYS_INACTIVE")
ALZETTE_SSO_SIGNING_KEYS_INACTIVE_FILE = env_str("ALZETTE_SSO_SIGNING_KEYS_INACTIVE_FILE")
ALZETTE_SSO_PAIRWISE_SECRET = env_str("ALZETTE_SSO_PAIRWISE_SECRET")
ALZETTE_SSO_PAIRWISE_SECRET_FILE = env_str("ALZETTE_SSO_PAIRWISE_SECRET_FILE")
# OpenID Connect, PKCE S256 only, pairwise subjects, every RFC 9700 behaviour on,
# plain-http redirect URIs only outside production: alzette/personal/sso/conf.py.
# Named so that migrations can depend on it as a swappable model (DOT reads it too).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER = oauth2_provider_settings(
    production=PRODUCTION,
    data_dir=DATA_DIR,
    signing_key=ALZETTE_SSO_SIGNING_KEY,
    signing_key_file=ALZETTE_SSO_SIGNING_KEY_FILE,
    inactive_signing_keys=ALZETTE_SSO_SIGNING_KEYS_INACTIVE,
    inactive_signing_keys_file=ALZETTE_SSO_SIGNING_KEYS_INACTIVE_FILE,
    issuer=env_str("ALZETTE_SSO_ISSUER"),
)

# --- Anonymisation bridge (docs/bridge.md) ----------------------------------
# The aggregates it releases (AggregateSpec subclasses), the fewest distinct subjects a
# released cell describes (at least 2), the differential-privacy budget per cell (empty:
# off), and the secret of its pseudonyms (empty: derived from SECRET_KEY). The secret
# stays in this process's environment: no database holds it.
ALZETTE_BRIDGE_AGGREGATES = env_list(
    "ALZETTE_BRIDGE_AGGREGATES",
    [
        "alzette.bridge.procedures.ProcedureFiles",
        "alzette.bridge.waste.BinLifts",
        "alzette.bridge.water.WaterUse",
    ],
)
ALZETTE_BRIDGE_K = env_int("ALZETTE_BRIDGE_K", 10)
ALZETTE_BRIDGE_EPSILON = env_str("ALZETTE_BRIDGE_EPSILON") or None
ALZETTE_BRIDGE_PSEUDONYM_KEY = env_str("ALZETTE_BRIDGE_PSEUDONYM_KEY")
# Households' recycling-centre cards are kept as keyed hashes (docs/households.md);
# empty: a key derived from SECRET_KEY. Set it in production so that changing
# SECRET_KEY does not invalidate every card.
ALZETTE_HOUSEHOLDS_CARD_KEY = env_str("ALZETTE_HOUSEHOLDS_CARD_KEY")

# Street lighting (docs/lighting.md): the point whose sunset and sunrise switch the lamps.
ALZETTE_LIGHTING_LON = float(env_str("ALZETTE_LIGHTING_LON", "5.95"))
ALZETTE_LIGHTING_LAT = float(env_str("ALZETTE_LIGHTING_LAT", "49.47"))

# Households' water (docs/home-water.md): how long hourly readings and daily use are kept.
ALZETTE_HOMEWATER_READING_DAYS = env_int("ALZETTE_HOMEWATER_READING_DAYS", 90)
ALZETTE_HOMEWATER_DAILY_DAYS = env_int("ALZETTE_HOMEWATER_DAILY_DAYS", 800)
# "My data" (docs/my-data.md): days the access log (who read a person's data) is kept.
ALZETTE_MYDATA_ACCESS_LOG_DAYS = env_int("ALZETTE_MYDATA_ACCESS_LOG_DAYS", 365)

# Water network (docs/water.md): the hours of use in a row that make a continuous flow
# on a household meter, and the water a district uses unmetered (m³ a day).
ALZETTE_WATER_CONTINUOUS_HOURS = env_int("ALZETTE_WATER_CONTINUOUS_HOURS", 24)
ALZETTE_WATER_UNMETERED_M3_PER_DAY = float(env_str("ALZETTE_WATER_UNMETERED_M3_PER_DAY", "2"))

# Supervision (docs/supervision.md): a device not heard from for this long is offline
# (twice its period when it declares one), and a battery under this level is low.
ALZETTE_SUPERVISION_OFFLINE_MINUTES = env_int("ALZETTE_SUPERVISION_OFFLINE_MINUTES", 60)
ALZETTE_SUPERVISION_LOW_BATTERY_PERCENT = env_int("ALZETTE_SUPERVISION_LOW_BATTERY_PERCENT", 20)
# Alert e-mails: a rule's first alert is mailed at once, its next ones within this many
# minutes go out as one digest when the window ends (0: every alert mailed at once).
ALZETTE_ALERT_MAIL_WINDOW_MINUTES = env_int("ALZETTE_ALERT_MAIL_WINDOW_MINUTES", 15)

# The agents' live map (docs/hypervision.md): how often a stream polls the databases,
# and how long it lasts before the browser reconnects (which frees the worker).
ALZETTE_HYPERVISION_POLL_SECONDS = env_int("ALZETTE_HYPERVISION_POLL_SECONDS", 2)
ALZETTE_HYPERVISION_STREAM_SECONDS = env_int("ALZETTE_HYPERVISION_STREAM_SECONDS", 300)

# Device simulators run by ``alzette simulate <name>`` (docs/simulators.md).
ALZETTE_SIMULATORS = env_list(
    "ALZETTE_SIMULATORS",
    [
        "alzette.territory.waste.simulator.WasteSimulator",
        "alzette.territory.lighting.simulator.LightingSimulator",
        "alzette.territory.water.simulator.WaterSimulator",
    ],
)

# Waste collection rounds (docs/rounds.md): road distances from an OSRM-compatible
# service when set, else great-circle distances times a detour factor.
ALZETTE_OSRM_URL = env_str("ALZETTE_OSRM_URL", "")
ALZETTE_OSRM_PROFILE = env_str("ALZETTE_OSRM_PROFILE", "driving")
ALZETTE_OSRM_TIMEOUT = float(env_str("ALZETTE_OSRM_TIMEOUT", "10"))
ALZETTE_OSRM_TABLE_SIZE = env_int("ALZETTE_OSRM_TABLE_SIZE", 100)
ALZETTE_ROUTING_DETOUR_FACTOR = float(env_str("ALZETTE_ROUTING_DETOUR_FACTOR", "1.3"))
ALZETTE_ROUTING_TIME_LIMIT = float(env_str("ALZETTE_ROUTING_TIME_LIMIT", "5"))

# --- Ledger -----------------------------------------------------------------
# Ed25519 key signing tree heads: PEM text, or a file holding it. Outside
# production a key is generated into the data directory on first use.
ALZETTE_LEDGER_SIGNING_KEY = env_str("ALZETTE_LEDGER_SIGNING_KEY")
ALZETTE_LEDGER_SIGNING_KEY_FILE = env_str("ALZETTE_LEDGER_SIGNING_KEY_FILE")

# --- Payments (docs/payments.md) --------------------------------------------
# Providers are a registry of dotted paths; the variable adds or overrides entries.
# The simulator is registered outside production only (and refuses to run in it).
_PAYMENT_PROVIDERS = {"payfip": "alzette.personal.payments.providers.payfip.PayFiPProvider"}
if not PRODUCTION:
    _PAYMENT_PROVIDERS["simulator"] = (
        "alzette.personal.payments.providers.simulator.SimulatorProvider"
    )
ALZETTE_PAYMENT_PROVIDERS = env_pairs("ALZETTE_PAYMENT_PROVIDERS", _PAYMENT_PROVIDERS)
ALZETTE_PAYMENT_PROVIDER = env_str("ALZETTE_PAYMENT_PROVIDER", "" if PRODUCTION else "simulator")
# PayFiP (DGFiP), web-service flow: client number (numcli) and mode (saisie T/X/W).
ALZETTE_PAYFIP_CLIENT_NUMBER = env_str("ALZETTE_PAYFIP_CLIENT_NUMBER")
ALZETTE_PAYFIP_MODE = env_choice(
    "ALZETTE_PAYFIP_MODE", ("test", "activation", "production"), "test"
)
ALZETTE_PAYFIP_SERVICE_URL = env_str(
    "ALZETTE_PAYFIP_SERVICE_URL", "https://www.payfip.gouv.fr/tpa/services/securite"
)
ALZETTE_PAYFIP_PAYMENT_URL = env_str(
    "ALZETTE_PAYFIP_PAYMENT_URL", "https://www.payfip.gouv.fr/tpa/paiementws.web"
)
ALZETTE_PAYFIP_TIMEOUT = env_int("ALZETTE_PAYFIP_TIMEOUT", 10)

# --- oneM2M IN-CSE (docs/onem2m.md) ------------------------------------------
ALZETTE_ONEM2M_CSI = env_str("ALZETTE_ONEM2M_CSI", "/id-alzette")
ALZETTE_ONEM2M_CSE_RN = env_str("ALZETTE_ONEM2M_CSE_RN", "alzette")
ALZETTE_ONEM2M_SPID = env_str("ALZETTE_ONEM2M_SPID", "alzette.ccphva.fr")
ALZETTE_ONEM2M_ADMIN = env_str("ALZETTE_ONEM2M_ADMIN", "CAdmin")
# Without credentials anyone may speak as any originator: development and demo only.
ALZETTE_ONEM2M_OPEN = env_bool("ALZETTE_ONEM2M_OPEN", not PRODUCTION)
# Whether notifications may target private and loopback addresses.
ALZETTE_ONEM2M_PRIVATE_TARGETS = env_bool("ALZETTE_ONEM2M_PRIVATE_TARGETS", not PRODUCTION)
ALZETTE_ONEM2M_POA = env_list("ALZETTE_ONEM2M_POA")
ALZETTE_ONEM2M_DEFAULT_EXPIRATION_DAYS = env_int("ALZETTE_ONEM2M_DEFAULT_EXPIRATION_DAYS", 3650)
ALZETTE_ONEM2M_DISCOVERY_LIMIT = env_int("ALZETTE_ONEM2M_DISCOVERY_LIMIT", 1000)
# "thread": a delivery round right after the commit; "sync": inline; "worker": only the job.
ALZETTE_ONEM2M_DELIVERY = env_choice(
    "ALZETTE_ONEM2M_DELIVERY", ("thread", "sync", "worker"), "thread"
)
ALZETTE_ONEM2M_NOTIFY_TIMEOUT = env_int("ALZETTE_ONEM2M_NOTIFY_TIMEOUT", 5)
ALZETTE_ONEM2M_NOTIFICATION_TTL_HOURS = env_int("ALZETTE_ONEM2M_NOTIFICATION_TTL_HOURS", 168)
# mqtt://user:password@host:1883 of the broker; empty: no MQTT binding.
ALZETTE_ONEM2M_MQTT_URL = env_str("ALZETTE_ONEM2M_MQTT_URL")
ALZETTE_ONEM2M_BINDINGS = env_list(
    "ALZETTE_ONEM2M_BINDINGS",
    [
        "alzette.territory.onem2m.bindings.http.HttpBinding",
        "alzette.territory.onem2m.bindings.mqtt.MqttBinding",
    ],
)
_ONEM2M_TYPES = "alzette.territory.onem2m.types"
ALZETTE_ONEM2M_RESOURCE_TYPES = {
    1: f"{_ONEM2M_TYPES}.ACPKind",
    2: f"{_ONEM2M_TYPES}.AEKind",
    3: f"{_ONEM2M_TYPES}.ContainerKind",
    4: f"{_ONEM2M_TYPES}.ContentInstanceKind",
    5: f"{_ONEM2M_TYPES}.CSEBaseKind",
    9: f"{_ONEM2M_TYPES}.GroupKind",
    23: f"{_ONEM2M_TYPES}.SubscriptionKind",
    28: f"{_ONEM2M_TYPES}.FlexContainerKind",
}

# --- NGSI-LD context broker (docs/ngsi-ld.md) ---------------------------------
# Without a key anyone may write the context: development and demo only.
ALZETTE_NGSILD_OPEN = env_bool("ALZETTE_NGSILD_OPEN", not PRODUCTION)
# Territory context is public data: anyone may read it unless this is turned off.
ALZETTE_NGSILD_PUBLIC_READ = env_bool("ALZETTE_NGSILD_PUBLIC_READ", True)
# Whether subscriptions may notify private and loopback addresses.
ALZETTE_NGSILD_PRIVATE_TARGETS = env_bool("ALZETTE_NGSILD_PRIVATE_TARGETS", not PRODUCTION)
# "thread": a delivery round right after the commit; "sync": inline; "worker": only the job.
ALZETTE_NGSILD_DELIVERY = env_choice(
    "ALZETTE_NGSILD_DELIVERY", ("thread", "sync", "worker"), "thread"
)
ALZETTE_NGSILD_NOTIFY_TIMEOUT = env_int("ALZETTE_NGSILD_NOTIFY_TIMEOUT", 5)
# MQTT broker for mqtt:// notification endpoints; empty: the endpoint's own host.
ALZETTE_NGSILD_MQTT_URL = env_str("ALZETTE_NGSILD_MQTT_URL")
# Months of temporal history kept (0: forever); older partitions or rows are dropped.
ALZETTE_NGSILD_HISTORY_MONTHS = env_int("ALZETTE_NGSILD_HISTORY_MONTHS", 24)
# The public base URL of the broker, for registered contexts' URLs and Location headers.
ALZETTE_NGSILD_BASE_URL = env_str("ALZETTE_NGSILD_BASE_URL", "")

# --- Partners: sharing, developer apps, quotas (docs/partners.md) ---------------------------
# Default quotas of a new application, per environment; operators raise them per app.
ALZETTE_PARTNER_QUOTAS = {
    "sandbox": {
        "per_minute": env_int("ALZETTE_PARTNER_SANDBOX_PER_MINUTE", 30),
        "per_day": env_int("ALZETTE_PARTNER_SANDBOX_PER_DAY", 2_000),
    },
    "live": {
        "per_minute": env_int("ALZETTE_PARTNER_LIVE_PER_MINUTE", 120),
        "per_day": env_int("ALZETTE_PARTNER_LIVE_PER_DAY", 50_000),
    },
}

# --- Unified search (alzette/territory/search.py) ----------------------------
# --- Open-data catalogue (alzette/territory/catalogue, docs/open-data.md) ---------------
# Where datasets' rows come from: dotted paths of Source classes.
ALZETTE_CATALOGUE_SOURCES = env_list(
    "ALZETTE_CATALOGUE_SOURCES",
    [
        "alzette.territory.catalogue.sources.NgsiLdEntities",
        "alzette.territory.catalogue.sources.NgsiLdHistory",
        "alzette.territory.catalogue.sources.Communes",
        "alzette.territory.catalogue.sources.TerritoryEvents",
        "alzette.territory.catalogue.sources.ProcedureStatistics",
        "alzette.territory.catalogue.sources.UploadedFile",
        "alzette.territory.catalogue.sources.NgsiLdAggregate",
        "alzette.territory.catalogue.bridge_sources.BridgeAggregates",
    ],
)
# How the DCAT-AP catalogue presents itself (docs/opendata-dcat.md).
ALZETTE_CATALOGUE_PUBLISHER = env_str(
    "ALZETTE_CATALOGUE_PUBLISHER", "Communauté de communes Pays Haut Val d'Alzette"
)
ALZETTE_CATALOGUE_LICENCE = env_str("ALZETTE_CATALOGUE_LICENCE", "etalab-2.0")
# Snapshots of the datasets' rows and uploaded files (docs/operations.md: back it up).
ALZETTE_CATALOGUE_DIR = Path(env_str("ALZETTE_CATALOGUE_DIR", str(DATA_DIR / "catalogue")))
# Snapshots kept per dataset (at least 2: a download may be reading the one before).
ALZETTE_CATALOGUE_SNAPSHOTS_KEPT = max(2, env_int("ALZETTE_CATALOGUE_SNAPSHOTS_KEPT", 3))
ALZETTE_CATALOGUE_UPLOAD_MAX_BYTES = env_int("ALZETTE_CATALOGUE_UPLOAD_MAX_BYTES", 50 * 2**20)
# Who is told when a dataset's refresh starts failing and when it recovers; the
# addresses of ADMINS when empty.
ALZETTE_CATALOGUE_ALERT_EMAILS = env_list("ALZETTE_CATALOGUE_ALERT_EMAILS")
# The public address of the platform, for absolute URIs in the DCAT catalogue.
ALZETTE_PUBLIC_URL = env_str("ALZETTE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

ALZETTE_SEARCH_SOURCES = env_list(
    "ALZETTE_SEARCH_SOURCES",
    [
        "alzette.territory.documents.sources.DocumentSearchSource",
        "alzette.territory.ngsild.search.EntitySearchSource",
    ],
)

# --- Observability ---------------------------------------------------------
LOGGING = logging_config(
    env_str("ALZETTE_LOG_LEVEL", "INFO"),
    env_bool("ALZETTE_JSON_LOGS", ALZETTE_MODE != "development"),
)
PROMETHEUS_EXPORT_MIGRATIONS = False
ALZETTE_METRICS_TOKEN = env_str("ALZETTE_METRICS_TOKEN")

# --- Security --------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
if env_bool("ALZETTE_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("ALZETTE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("ALZETTE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("ALZETTE_HSTS_PRELOAD", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]


def _production_problems() -> list[str]:
    problems = []
    if DEBUG:
        problems.append("ALZETTE_DEBUG must be off.")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure"):
        problems.append(
            "ALZETTE_SECRET_KEY must be set to a random value of at least 50 characters "
            '(python -c "import secrets; print(secrets.token_urlsafe(64))").'
        )
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        problems.append("ALZETTE_ALLOWED_HOSTS must list the platform's host names (not '*').")
    if not (ALZETTE_LEDGER_SIGNING_KEY or ALZETTE_LEDGER_SIGNING_KEY_FILE):
        problems.append(
            "ALZETTE_LEDGER_SIGNING_KEY or ALZETTE_LEDGER_SIGNING_KEY_FILE must hold the "
            "ledger's Ed25519 key (alzette ledger keygen prints one)."
        )
    if not OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]:
        problems.append(
            "ALZETTE_SSO_SIGNING_KEY or ALZETTE_SSO_SIGNING_KEY_FILE must hold the OpenID "
            "Provider's RSA key (alzette sso keygen prints one)."
        )
    if not (ALZETTE_SSO_PAIRWISE_SECRET or ALZETTE_SSO_PAIRWISE_SECRET_FILE):
        problems.append(
            "ALZETTE_SSO_PAIRWISE_SECRET or ALZETTE_SSO_PAIRWISE_SECRET_FILE must hold the "
            "secret of the pairwise subject identifiers (alzette sso pairwise-secret prints "
            "one; never change it)."
        )
    if EMAIL_BACKEND.endswith("console.EmailBackend"):
        problems.append("ALZETTE_EMAIL_BACKEND must send real e-mail, not print it.")
    return problems + _payment_problems()


def _payment_problems() -> list[str]:
    provider = ALZETTE_PAYMENT_PROVIDER
    if provider == "simulator":
        return ["ALZETTE_PAYMENT_PROVIDER must not be the payment simulator."]
    if provider and provider not in ALZETTE_PAYMENT_PROVIDERS:
        return [f"ALZETTE_PAYMENT_PROVIDER names no registered provider: {provider!r}."]
    if provider == "payfip" and not re.fullmatch(r"\d{6}", ALZETTE_PAYFIP_CLIENT_NUMBER):
        return [
            "ALZETTE_PAYFIP_CLIENT_NUMBER must be the 6-digit PayFiP client number given by "
            "the DGFiP when ALZETTE_PAYMENT_PROVIDER is payfip."
        ]
    return []


if PRODUCTION and (_problems := _production_problems()):
    raise ImproperlyConfigured(
        "Alzette refuses to start in production mode:\n  - " + "\n  - ".join(_problems)
    )
