"""Django settings. Everything a deployment changes comes from limber.config (environment)."""

import logging
from pathlib import Path

from django.core import checks

from limber import config

CONFIG = config.load()
# `limber check --deploy`: a TLS proxy that is not trusted, a key each server makes its own.
checks.register(config.deploy_checks, checks.Tags.security, deploy=True)
BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = CONFIG.allowed_hosts
DATA_DIR = CONFIG.data_dir
EXERCISES_DIR = CONFIG.exercises_dir

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    # Only so django-ninja serves its API docs from the files shipped in its wheel, not a CDN.
    "ninja",
    "limber.library",
    "limber.accounts",
    "limber.practice",
    "limber.clinic",
]

MIDDLEWARE = [
    "limber.health.probes",
    # Redis gone: a 503 that says so, not a 500 with a traceback per request.
    "limber.health.CacheOutage",
    # First: who the client is and whether it came over https, believed only from our proxies.
    "limber.security.trusted_proxy",
    "limber.security.headers",
    "limber.api.middleware.api_json_errors",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "limber.accounts.device.local_time",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "limber.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "limber.accounts.device.device_storage",
            ],
        },
    },
]
WSGI_APPLICATION = "limber.wsgi.application"
ASGI_APPLICATION = "limber.asgi.application"
# The camera socket talks to one page only (no groups, no broadcasts), so one process needs no
# channel layer; with Redis the layer is there for whatever needs to reach across processes.
CHANNEL_LAYERS: dict[str, dict[str, object]] = {}

# Login throttles, rate limits and the token cache count here. One process: its own memory.
# Several processes or machines: they must share Redis, or each would count alone. The keys
# carry a hash of the database (CONFIG.cache_key_prefix): cached token lookups name users by
# id, so a deployment on another database (a restored copy, staging) sharing this Redis must
# never read them.
CACHES: dict[str, dict[str, object]] = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "limber"}
}
if CONFIG.redis_url:
    CACHES["default"] = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": CONFIG.redis_url,
        "KEY_PREFIX": CONFIG.cache_key_prefix,
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
    }
    CHANNEL_LAYERS["default"] = {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [CONFIG.redis_url],
            "prefix": CONFIG.cache_key_prefix.replace("limber:", "limber-channels:", 1),
        },
    }

DATABASES = {"default": CONFIG.database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
TRUSTED_PROXIES = CONFIG.trusted_proxies
TOKEN_DAYS = CONFIG.token_days
# The browser says where a form came from; behind a TLS proxy that is https://<host>.
CSRF_TRUSTED_ORIGINS = [
    "https://" + ("*" + h if h.startswith(".") else h) for h in ALLOWED_HOSTS if h != "*"
]
if CONFIG.https:
    # (/healthz and /readyz are answered before this redirect: probes come over plain http.)
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # A year, as browsers' preload lists ask; only sent on https answers.
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "practice"
EMAIL_BACKEND = CONFIG.email_backend
globals().update(CONFIG.email_settings)  # DEFAULT_FROM_EMAIL, EMAIL_HOST, EMAIL_PORT, ...
# The API refuses larger bodies with 413; a week of sessions fits in far less.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from the package in every mode: no collectstatic step to forget.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG


def _client_faults_in_one_line(record):
    # django.security.* is a request Django refused (a foreign Host header from a scanner or a
    # misconfigured proxy, a body too large): its message says it all, and Django's traceback
    # of where it noticed would add a dozen lines per request. The client's doing: a warning.
    if record.name.startswith("django.security."):
        record.exc_info = None
        record.exc_text = None
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
    return True


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": config.LOG_FORMAT}},
    "filters": {
        "client_faults": {
            "()": "django.utils.log.CallbackFilter",
            "callback": _client_faults_in_one_line,
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["client_faults"],
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
}
