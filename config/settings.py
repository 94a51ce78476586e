"""Settings for the rumour tracker, read from environment variables.

Every value comes from the environment through the typed readers in :mod:`config.env`, so one set
of code runs both set-ups described in DESIGN.md:

* **Embedded default** (nothing set but ``DJANGO_DEBUG=1``): SQLite in ``var/``,
  Celery on kombu's filesystem transport, a local-memory cache. Needs only Python.
* **Production**: ``DATABASE_URL`` (PostgreSQL), ``REDIS_URL`` or
  ``CELERY_BROKER_URL`` (Redis), ``DJANGO_SECRET_KEY`` and ``DJANGO_ALLOWED_HOSTS``.

Bad values fail here, at start, with the variable's name in the message; rules that
span several settings are system checks in :mod:`tracker.checks`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from config import env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env.path("TRACKER_VAR_DIR", default=BASE_DIR / "var")

DEBUG = env.boolean("DJANGO_DEBUG", default=False)

SECRET_KEY = env.string("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Production refuses to start without one; "
            "for local development set DJANGO_DEBUG=1 (as `make run` does)."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105  (DEBUG only)

ALLOWED_HOSTS = env.strings(
    "DJANGO_ALLOWED_HOSTS",
    default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [],
)
CSRF_TRUSTED_ORIGINS = env.strings("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_prometheus",
    "tracker",
    "rumours",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.security.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",  # ETag / If-None-Match -> 304 on the API
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {"default": env.database("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'tracker.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A worker, beat and the web server share the file: wait for locks instead of
    # failing at once, and take the write lock at the start of a transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.integer("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.string("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": env.cache("REDIS_URL")}
    if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        # Nothing cached is needed to answer a request: while Redis restarts, the cache
        # misses instead of failing the request (config.cache), after at most these timeouts.
        CACHES["default"]["BACKEND"] = "config.cache.ResilientRedisCache"
        CACHES["default"].setdefault("OPTIONS", {}).update({"socket_connect_timeout": 0.5, "socket_timeout": 0.5})
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Logins: brute-force protection (django-axes) ----------------------------------------
# After AXES_FAILURE_LIMIT failed passwords for one username from one address, that pair
# is refused (429) for AXES_COOLOFF_MINUTES, even with the right password. Locking by the
# pair, not the username alone, stops a stranger from locking an analyst out. Behind a
# proxy, DJANGO_PROXY_COUNT says how many X-Forwarded-For hops to trust (config.security).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.integer("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.integer("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # failures are kept (for the admin's list); successes are not
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
AXES_SENSITIVE_PARAMETERS = ["password"]
PROXY_COUNT = env.integer("DJANGO_PROXY_COUNT", default=0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

# --- Logs, metrics, error reporting -------------------------------------------------------
# DJANGO_LOG_FORMAT: json (one object per line, the production default) or plain. Every
# line passes config.logs.RedactSecrets: API keys, URL passwords and auth headers never
# reach a log. Celery's worker and beat log through this too (they do not take over the
# root logger), so every process writes the same format.
LOG_LEVEL = env.string("DJANGO_LOG_LEVEL", default="INFO")
LOG_FORMAT = env.string("DJANGO_LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"DJANGO_LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "config.logs.RedactSecrets"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.logs.JsonLines"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "tracker": {"level": LOG_LEVEL},
        "rumours": {"level": LOG_LEVEL},
        "config": {"level": LOG_LEVEL},
        "celery": {"level": LOG_LEVEL},
        "django": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},  # one INFO line per request drowns the poll log
    },
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# /metrics (config.metrics): a bearer token; without one, only the embedded set-up serves it.
METRICS_TOKEN = env.string("METRICS_TOKEN", default="")
METRICS_WINDOW_SECONDS = env.integer("METRICS_WINDOW_SECONDS", default=5 * 60)
PROMETHEUS_EXPORT_MIGRATIONS = False  # a scrape must not read the migration graph

SENTRY_DSN = env.string("SENTRY_DSN", default="")
if SENTRY_DSN:
    from config import sentry

    sentry.init(
        dsn=SENTRY_DSN,
        environment=env.string("SENTRY_ENVIRONMENT", default="production"),
        release=env.string("SENTRY_RELEASE", default="") or None,
        traces_sample_rate=env.number("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# --- Celery ------------------------------------------------------------------------
# Embedded default: kombu's filesystem transport, so `make run` needs no Redis.
CELERY_BROKER_URL = env.string("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # Above the longest countdown/ETA we schedule, so Redis never redelivers a task
    # that is merely waiting (see Celery's "visibility timeout" caveat).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = env.boolean("CELERY_TASK_ALWAYS_EAGER", default=False)
# One queue per kind of work, so a slow one cannot starve another: polling (I/O bound,
# many), detection (CPU bound), email (digests, alerts, webhooks: outside services),
# default (beat's short housekeeping ticks). A worker started without -Q consumes all
# four (the embedded set-up, the tests); production runs workers per queue (docs/operations.md).
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue(name) for name in ("default", "polling", "detection", "email")]
CELERY_TASK_ROUTES = {
    "tracker.poll_feed": {"queue": "polling"},
    "rumours.scan_entries": {"queue": "detection"},
    "rumours.send_digests": {"queue": "email"},
    "rumours.deliver_webhook": {"queue": "email"},
}
# Polling is I/O bound and idempotent: take one task at a time, acknowledge it
# after the work so a killed worker's task is delivered again.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-feeds": {
        "task": "tracker.dispatch_due_feeds",
        "schedule": env.integer("TRACKER_DISPATCH_EVERY_SECONDS", default=60),
    },
    "prune-poll-logs": {
        "task": "tracker.prune_poll_logs",
        "schedule": crontab(minute="17", hour="3"),
    },
    "prune-entries": {
        "task": "tracker.prune_entries",
        "schedule": crontab(minute="47", hour="3"),
    },
    "retry-webhooks": {"task": "rumours.retry_webhooks", "schedule": 60},
    "plan-digests": {"task": "rumours.plan_digests", "schedule": 15 * 60},
    "expire-stale-rumours": {
        "task": "rumours.expire_stale_rumours",
        "schedule": crontab(minute="41", hour="2"),
    },
}

# --- Feed polling (tracker) -----------------------------------------------------------
TRACKER_USER_AGENT = env.string(
    "TRACKER_USER_AGENT",
    default="SEA-Deal-Rumour-Tracker/0.1 (+https://example.invalid/tracker; feed poller)",
)
TRACKER_ALLOW_PRIVATE_ADDRESSES = env.boolean("TRACKER_ALLOW_PRIVATE_ADDRESSES", default=False)
TRACKER_MAX_BODY_BYTES = env.integer("TRACKER_MAX_BODY_BYTES", default=15 * 1024 * 1024)
TRACKER_CONNECT_TIMEOUT = env.number("TRACKER_CONNECT_TIMEOUT", default=10.0)
TRACKER_READ_TIMEOUT = env.number("TRACKER_READ_TIMEOUT", default=20.0)
TRACKER_TOTAL_TIMEOUT = env.number("TRACKER_TOTAL_TIMEOUT", default=60.0)
TRACKER_MAX_REDIRECTS = env.integer("TRACKER_MAX_REDIRECTS", default=5)
TRACKER_REDIRECT_ADOPT_AFTER = env.integer("TRACKER_REDIRECT_ADOPT_AFTER", default=3)
TRACKER_MIN_INTERVAL = env.integer("TRACKER_MIN_INTERVAL", default=5 * 60)
TRACKER_MAX_INTERVAL = env.integer("TRACKER_MAX_INTERVAL", default=6 * 60 * 60)
TRACKER_MAX_BACKOFF = env.integer("TRACKER_MAX_BACKOFF", default=24 * 60 * 60)
TRACKER_DISABLE_AFTER_DAYS = env.integer("TRACKER_DISABLE_AFTER_DAYS", default=30)
TRACKER_LEASE_SECONDS = env.integer("TRACKER_LEASE_SECONDS", default=10 * 60)
TRACKER_DISPATCH_BATCH = env.integer("TRACKER_DISPATCH_BATCH", default=1000)
TRACKER_POLL_LOG_DAYS = env.integer("TRACKER_POLL_LOG_DAYS", default=30)
# Entries older than this that no rumour cites are pruned nightly (tracker.retention).
TRACKER_ENTRY_RETENTION_DAYS = env.integer("TRACKER_ENTRY_RETENTION_DAYS", default=365)
# The one hand-off from tracker to the rest of the product: a dotted path to a
# callable taking (feed_id=, new_entry_ids=, changed_entry_ids=), called after commit.
TRACKER_ENTRIES_HANDLER = env.string("TRACKER_ENTRIES_HANDLER", default="rumours.handoff.entries_ingested")
# Serve the bundled demo feeds at /demo/feeds/<name>.xml so the embedded set-up
# polls something real over HTTP.
TRACKER_SERVE_DEMO_FEEDS = env.boolean("TRACKER_SERVE_DEMO_FEEDS", default=DEBUG)
TRACKER_DEMO_BASE_URL = env.string("TRACKER_DEMO_BASE_URL", default="http://127.0.0.1:8000")

if not DEBUG:
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SESSION_COOKIE_SECURE = env.boolean("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # HTTPS only. Behind a proxy that ends TLS, set DJANGO_BEHIND_TLS_PROXY=1 so Django
    # believes its X-Forwarded-Proto (and make sure the proxy sets it). Load balancers
    # probe /health/ over plain HTTP, so it is not redirected.
    SECURE_SSL_REDIRECT = env.boolean("DJANGO_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]  # probes and scrapers inside the network
    SECURE_HSTS_SECONDS = env.integer("DJANGO_HSTS_SECONDS", default=365 * 24 * 60 * 60)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.boolean("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.boolean("DJANGO_HSTS_PRELOAD", default=True)
    if env.boolean("DJANGO_BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Sent on every response by config.security (Django 5.2 has no CSP of its own). No inline
# scripts anywhere: the admin has none, and the API docs load theirs from files.
CONTENT_SECURITY_POLICY = env.string(
    "CONTENT_SECURITY_POLICY",
    default=(
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
        "object-src 'none'"
    ),
)

# --- The API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rumours.api.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # staff browsing from the admin
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rumours.api.auth.HasApiKeyOrStaff"],
    "DEFAULT_THROTTLE_CLASSES": ["rumours.api.auth.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env.string("API_RATE", default="600/min")},
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "rumours.api.parsers.JSONParser",  # deep nesting is a 400, not a server error
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "rumours.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
# status-changes/ shows rows only once they are this old, so a transaction still
# committing cannot slip in behind a client's `since` (keep above the longest write).
API_SYNC_SETTLE_SECONDS = env.integer("API_SYNC_SETTLE_SECONDS", default=10)
SPECTACULAR_SETTINGS = {
    "TITLE": "SEA deal rumour tracker API",
    "DESCRIPTION": (
        "M&A rumours in Southeast Asian tech, with sources, executives' quotes and a bitemporal status "
        "history. Every rumour endpoint answers `as_of` any past moment, as it was known then.\n\n"
        "**Getting a key.** Your account manager issues one (shown once; only its hash is kept). On a demo "
        "install: `python manage.py create_api_key you --create-user`. Send it as "
        "`Authorization: Bearer srt_…` (or click *Authorize* here).\n\n"
        "**Following a deal.** `GET /api/v1/rumours/?company=Grab` finds the GoTo–Grab thread; "
        "`GET /api/v1/rumours/{id}/?as_of=2024-03-01` shows it as known then; keep a local copy with "
        "`GET /api/v1/status-changes/?since=<next_since>`; ask for a webhook to be pushed each change."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from this site, no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "ENUM_NAME_OVERRIDES": {"RumourStatusEnum": "rumours.models.Status", "SectorEnum": "rumours.models.Sector"},
}

# --- Rumours ----------------------------------------------------------------------------
RUMOURS_EXPIRE_AFTER_DAYS = env.integer("RUMOURS_EXPIRE_AFTER_DAYS", default=365)

# --- Email and digests ------------------------------------------------------------------
# EMAIL_URL: smtp://user:pass@host:587 (smtp+tls://), consolemail://, filemail:///path. The
# embedded default writes each message to var/mail/. EMAIL_BACKEND, when set, wins: e.g.
# anymail.backends.mailgun.EmailBackend with ANYMAIL="MAILGUN_API_KEY=…,MAILGUN_SENDER_DOMAIN=…".
_email = env.email("EMAIL_URL", default=f"filemail:///{VAR_DIR / 'mail'}")
EMAIL_BACKEND = env.string("EMAIL_BACKEND", default=_email["EMAIL_BACKEND"])
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = int(_email.get("EMAIL_PORT") or 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
EMAIL_FILE_PATH = _email.get("EMAIL_FILE_PATH") or str(VAR_DIR / "mail")
EMAIL_TIMEOUT = env.integer("EMAIL_TIMEOUT", default=30)
ANYMAIL = env.mapping("ANYMAIL")
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", default="SEA Deal Rumours <digests@localhost>")
# Absolute links in emails (unsubscribe, manage, rumours) start with this.
SITE_URL = env.string("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
DIGEST_SEND_BATCH = env.integer("DIGEST_SEND_BATCH", default=50)
DIGEST_MAX_ATTEMPTS = env.integer("DIGEST_MAX_ATTEMPTS", default=5)

# --- Health -----------------------------------------------------------------------------
HEALTH_BEAT_STALE_SECONDS = env.integer("HEALTH_BEAT_STALE_SECONDS", default=5 * 60)
HEALTH_QUEUE_WARN = env.integer("HEALTH_QUEUE_WARN", default=5000)
