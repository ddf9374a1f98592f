"""Django settings for PanelRelay, read from environment variables (see docs/CONFIGURATION.md).

Two modes:
- embedded (default): SQLite in DATA_DIR, secrets generated once into DATA_DIR with a warning;
- production (PANELRELAY_PRODUCTION=true): refuses to start without SECRET_KEY, FERNET_KEYS,
  INDEX_KEY, ALLOWED_HOSTS and an https SITE_URL, or with DEBUG on or a '*' host, and turns on
  HTTPS-only cookies and HSTS.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from panelrelay.env import (
    database_from_url,
    env_bool,
    env_fernet_keys,
    env_int,
    env_list,
    env_str,
    env_url,
    sqlite_database,
)
from panelrelay.localsecrets import local_secrets

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "data")))
PRODUCTION = env_bool("PANELRELAY_PRODUCTION", False)
DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    # Django's error pages would show settings, code and request data to anyone.
    raise ImproperlyConfigured("DEBUG: must be false when PANELRELAY_PRODUCTION=true")
TESTING = "pytest" in sys.modules

# ----- secrets ------------------------------------------------------------------
_secret_key = env_str("SECRET_KEY")
_fernet_keys = env_fernet_keys("FERNET_KEYS")
_index_key = env_str("INDEX_KEY")
if _index_key is not None and len(_index_key) < 16:
    raise ImproperlyConfigured(
        f"INDEX_KEY: must be at least 16 characters of random text, got {len(_index_key)}; "
        'make one with python -c "import secrets; print(secrets.token_urlsafe(32))"'
    )
if PRODUCTION:
    missing = [
        n for n, v in (("SECRET_KEY", _secret_key), ("FERNET_KEYS", _fernet_keys), ("INDEX_KEY", _index_key)) if not v
    ]
    if missing:
        raise ImproperlyConfigured(f"production mode needs {', '.join(missing)} (see docs/CONFIGURATION.md)")
if not (_secret_key and _fernet_keys and _index_key):
    generated = local_secrets(DATA_DIR)
    _secret_key = _secret_key or generated["secret_key"]
    _fernet_keys = _fernet_keys or [generated["fernet_key"]]
    _index_key = _index_key or generated["index_key"]

SECRET_KEY = _secret_key
# The first key encrypts, every key decrypts: add a new key in front, run `manage.py rotate_keys`
# (re-encrypts every stored secret with the first key; docs/CONFIGURATION.md), then drop the old one.
FERNET_KEYS = _fernet_keys
# Keyed HMAC for matching encrypted values (provider domains) without decrypting them. It is
# separate from the Fernet keys so that rotating those leaves the index valid.
INDEX_KEY = _index_key

# ----- hosts and HTTP --------------------------------------------------------------
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("production mode needs ALLOWED_HOSTS, e.g. ALLOWED_HOSTS=relay.example.com")
if PRODUCTION and any("*" in host for host in ALLOWED_HOSTS):
    # Any Host header would be accepted, and Django builds absolute links (password reset) from it.
    raise ImproperlyConfigured("ALLOWED_HOSTS: '*' is not allowed in production; list the site's host names")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Reverse proxies in front of the app that append the client's address to X-Forwarded-For.
# 0 (the default) ignores the header: a client could write anything in it.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000")
if PRODUCTION and not SITE_URL.lower().startswith("https://"):
    # Links in emails and the Telegram webhook must not travel or land on plain HTTP.
    raise ImproperlyConfigured(f"SITE_URL: production mode needs an https:// URL, got {SITE_URL!r}")
SITE_NAME = env_str("SITE_NAME", "PanelRelay")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "panelrelay.core",
    "panelrelay.accounts",
    "panelrelay.worker",
    "panelrelay.panels",
    "panelrelay.transports",
    "panelrelay.routing",
    "panelrelay.forwarding",
    "panelrelay.intake",
    "panelrelay.customers",
    "panelrelay.vault",
    "panelrelay.master",
    "panelrelay.api",
    "panelrelay.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "panelrelay.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "panelrelay.accounts.middleware.WorkspaceMiddleware",
]

ROOT_URLCONF = "panelrelay.urls"
WSGI_APPLICATION = "panelrelay.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "panelrelay.accounts.context_processors.workspace",
            ],
        },
    },
]

# ----- database ----------------------------------------------------------------------
_database_url = env_str("DATABASE_URL")
DATABASES = {
    "default": database_from_url(_database_url)
    if _database_url
    else sqlite_database(str(DATA_DIR / "panelrelay.sqlite3"))
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Tests get a file, not Django's shared in-memory database: the browser tests run a worker
    # thread beside the live server, and shared-cache memory databases lock whole tables
    # ("database table is locked") where a WAL file simply waits its turn.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-panelrelay.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ----- auth ------------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "forwarding:home"
LOGOUT_REDIRECT_URL = "accounts:login"
# Sign-in throttle (accounts/throttle.py), within the window: failures per account from one
# client address, after which that client is refused for that account; failures per address
# and per account from all addresses, after which a right password signs in by emailed link.
LOGIN_THROTTLE_PER_ACCOUNT = env_int("LOGIN_THROTTLE_PER_ACCOUNT", 5, minimum=1)
LOGIN_THROTTLE_PER_IP = env_int("LOGIN_THROTTLE_PER_IP", 20, minimum=1)
LOGIN_THROTTLE_ACCOUNT_TOTAL = env_int("LOGIN_THROTTLE_ACCOUNT_TOTAL", 20, minimum=1)
LOGIN_THROTTLE_WINDOW = env_int("LOGIN_THROTTLE_WINDOW", 15 * 60, minimum=60)
# Requests per hour.
PASSWORD_RESET_THROTTLE_PER_IP = env_int("PASSWORD_RESET_THROTTLE_PER_IP", 10, minimum=1)
PASSWORD_RESET_THROTTLE_PER_EMAIL = env_int("PASSWORD_RESET_THROTTLE_PER_EMAIL", 3, minimum=1)
SIGNUP_THROTTLE_PER_IP = env_int("SIGNUP_THROTTLE_PER_IP", 10, minimum=1)
INVITE_VALID_DAYS = env_int("INVITE_VALID_DAYS", 7, minimum=1)

# ----- security headers and cookies -------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie; keep default
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if env_bool("BEHIND_HTTPS_PROXY", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# ----- outbound HTTP ---------------------------------------------------------------
# User-supplied URLs (panels, gateways) may not point at private or loopback addresses,
# unless the operator allows it: self-hosted gateways on the same box, and the test fakes.
OUTBOUND_ALLOW_PRIVATE = env_bool("OUTBOUND_ALLOW_PRIVATE", not PRODUCTION)
OUTBOUND_TIMEOUT = env_int("OUTBOUND_TIMEOUT", 15, minimum=1)

# ----- email -------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    if EMAIL_USE_TLS and EMAIL_USE_SSL:
        raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL: choose one")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "PanelRelay <noreply@localhost>")

# ----- static files ------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Outside production WhiteNoise serves straight from the apps' static folders, so
# `make run` needs no collectstatic step.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# ----- worker ------------------------------------------------------------------------
WORKER_IDLE_SLEEP = float(env_int("WORKER_IDLE_SLEEP_MS", 500, minimum=10)) / 1000
WORKER_LEASE_SECONDS = env_int("WORKER_LEASE_SECONDS", 120, minimum=1)
# Jobs one worker process runs at once, each in a thread (worker/runner.py): waiting jobs never block others.
WORKER_THREADS = env_int("WORKER_THREADS", 4, minimum=1)
# First wait after a failed delivery or panel lookup; it doubles with each failure (max 1 h).
RETRY_BASE_SECONDS = env_int("RETRY_BASE_SECONDS", 10, minimum=1)
# How long a ticket's reply waits for the provider messages to be delivered before it answers.
TICKET_REPLY_DELIVERY_WAIT = env_int("TICKET_REPLY_DELIVERY_WAIT", 120, minimum=0)

# ----- vault -------------------------------------------------------------------------
# Days the master admin's backup records are kept; 0 keeps them forever (the default).
VAULT_RETENTION_DAYS = env_int("VAULT_RETENTION_DAYS", 0, minimum=0)

# ----- logging -----------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "panelrelay.core.logscrub.ScrubFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["scrub"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "telethon": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
