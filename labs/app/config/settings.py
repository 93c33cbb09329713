"""Settings of the sample API.

Every value that varies between environments comes from `envcontract.value(NAME)`: the same
names the Pulumi program sets on the API and worker containers (see envcontract.py). Nothing
here reads os.environ directly; a test checks that this module reads exactly the contracted
variables.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from envcontract import value

BASE_DIR = Path(__file__).resolve().parent.parent


def _flag(name: str) -> bool:
    return value(name).strip().lower() in {"1", "true", "yes", "on"}


def _csv(name: str) -> list[str]:
    return [item.strip() for item in value(name).split(",") if item.strip()]


SECRET_KEY = value("DJANGO_SECRET_KEY")
DEBUG = _flag("DJANGO_DEBUG")
ALLOWED_HOSTS = _csv("DJANGO_ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "graphene_django",
    "core",
    "accounts",
    "chats",
    "listings",
    "payments",
    "crm",
]

# Lesson 2: each lab middleware is switched on by name in LAB_MIDDLEWARE.
LAB_MIDDLEWARE_CLASSES = {
    "request_logging": "core.middleware.RequestLoggingMiddleware",
    "access_hours": "core.middleware.AccessHoursMiddleware",
    "post_rate_limit": "core.middleware.PostRateLimitMiddleware",
    "role_permission": "core.middleware.RolePermissionMiddleware",
}
LAB_MIDDLEWARE = _csv("LAB_MIDDLEWARE")
_unknown = sorted(set(LAB_MIDDLEWARE) - set(LAB_MIDDLEWARE_CLASSES))
if _unknown:
    raise RuntimeError(
        f"LAB_MIDDLEWARE: unknown {', '.join(_unknown)}; "
        f"choose from {', '.join(LAB_MIDDLEWARE_CLASSES)}"
    )

MIDDLEWARE = [
    "core.metrics.PrometheusMiddleware",
    "core.accesslog.AccessLogMiddleware",  # outside QueryCount: it logs the count
    # Before anything reads the body: an oversized one gets a clean 413 (core/bodylimit.py).
    "core.bodylimit.RequestBodyLimitMiddleware",
    "core.querycount.QueryCountMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # /static/ (the admin's CSS and scripts) from memory: no session, no user, no database.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The lab middlewares run after authentication so they can see request.user (they also
    # resolve JWT bearer tokens themselves: DRF authenticates only inside the view).
    *(LAB_MIDDLEWARE_CLASSES[name] for name in LAB_MIDDLEWARE_CLASSES if name in LAB_MIDDLEWARE),
    "core.messages.AdminMessageMiddleware",  # messages where they are shown: the admin
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

LAB_ACCESS_HOURS = value("LAB_ACCESS_HOURS")
LAB_POST_RATE_LIMIT = int(value("LAB_POST_RATE_LIMIT"))
LAB_PROTECTED_PATH_PREFIXES = ("/admin/", "/api/admin/")
LAB_PRIVILEGED_ROLES = ("admin", "moderator")

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

DATABASES = {
    "default": {
        "ENGINE": "core.postgres",  # Django's, with a cheaper health check
        "HOST": value("POSTGRES_HOST"),
        "PORT": value("POSTGRES_PORT"),
        "NAME": value("POSTGRES_DB"),
        "USER": value("POSTGRES_USER"),
        "PASSWORD": value("POSTGRES_PASSWORD"),
        # Persistent connections, checked at the first query of each request: a connection a
        # database restart broke is replaced before it fails a request (core/postgres: a
        # poll of the socket, and SELECT 1 only when the server has said something).
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
        # Parameters bound by the server, and a query run 5 times on a connection becomes a
        # prepared statement: Postgres stops parsing and planning the same queries on every
        # request (half its CPU for a page of messages). Not behind PgBouncer's transaction
        # pooling, which cannot keep prepared statements; the labs connect directly.
        "OPTIONS": {"connect_timeout": 5, "server_side_binding": True, "prepare_threshold": 5},
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Bodies above this answer 413 (core.bodylimit), JSON included (Django's own default, 2.5 MB).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
CSRF_FAILURE_VIEW = "core.errors.csrf_failure"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# LAB_NAIVE_QUERIES: the benchmark's naive baseline (bench/api.py). The listings and chats
# selectors then skip select_related/prefetch_related (N+1 queries) and nothing is cached.
LAB_NAIVE_QUERIES = _flag("LAB_NAIVE_QUERIES")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"
                      if LAB_NAIVE_QUERIES else "django.core.cache.backends.locmem.LocMemCache"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.auth.JWTAuthentication",  # simplejwt's, once per request (core/auth.py)
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON parser with a nesting limit (core/parsers.py); errors are JSON (core/errors.py).
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "core.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",  # one query a page
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "core.filters.FilterBackend",  # django-filter, skipped when no filter is asked for
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",  # documents the 4xx answers too
}

# Seconds each process keeps a token's user (core/auth.py): no user query per request. A save
# drops it at once in that process; other processes see a change within this time.
AUTH_USER_CACHE_SECONDS = 0 if LAB_NAIVE_QUERIES else 10

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=30),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "USER_ID_FIELD": "user_id",
    "USER_ID_CLAIM": "user_id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "prodev-labs sample API",
    "DESCRIPTION": "Messaging, listings, bookings and Chapa payments for the backend program.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "BookingStatusEnum": "listings.models.Booking.Status",
        "PaymentStatusEnum": "payments.models.Payment.Status",
    },
}

# Connections give at most 50 rows (crm/limits.py counts a query's cost with the same number).
GRAPHENE = {"SCHEMA": "crm.schema.schema", "RELAY_CONNECTION_MAX_LIMIT": 50}

# Celery: RabbitMQ broker; no result backend (tasks report through their side effects).
# TASK_BROKER=none (the lessons that deploy no RabbitMQ): no broker at all, so a task runs
# in the process that queues it and /readyz (core/health.py) does not wait for a broker.
TASK_BROKERS = ("rabbitmq", "none")
TASK_BROKER = value("TASK_BROKER").strip().lower()
if TASK_BROKER not in TASK_BROKERS:
    raise RuntimeError(f"TASK_BROKER must be one of {', '.join(TASK_BROKERS)}, "
                       f"not {TASK_BROKER!r}")
_AMQP_URL = "amqp://{user}:{password}@{host}:{port}/{vhost}".format(
    user=quote(value("RABBITMQ_USER"), safe=""),
    password=quote(value("RABBITMQ_PASSWORD"), safe=""),
    host=value("RABBITMQ_HOST"),
    port=value("RABBITMQ_PORT"),
    vhost=quote(value("RABBITMQ_VHOST"), safe=""),
)
# memory:// is never connected to while every task runs eagerly; it keeps anything else that
# reaches for the broker off localhost.
CELERY_BROKER_URL = _AMQP_URL if TASK_BROKER == "rabbitmq" else "memory://"
CELERY_TASK_ALWAYS_EAGER = TASK_BROKER == "none"
# As with a worker, a failing task (no mail server in lessons 1 and 2) must not fail the
# request that queued it: the error is logged, not raised.
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 5
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 3, "interval_start": 0, "interval_step": 1}
CELERY_TIMEZONE = TIME_ZONE

# Django 6.1 configures outgoing mail through MAILERS (the EMAIL_* settings are deprecated).
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": value("EMAIL_HOST"), "port": int(value("EMAIL_PORT")),
                    "timeout": 10},
    },
}
DEFAULT_FROM_EMAIL = value("DEFAULT_FROM_EMAIL")

CHAPA_BASE_URL = value("CHAPA_BASE_URL").rstrip("/")
CHAPA_SECRET_KEY = value("CHAPA_SECRET_KEY")
CHAPA_WEBHOOK_SECRET = value("CHAPA_WEBHOOK_SECRET")
CHAPA_TIMEOUT = 10
APP_PUBLIC_URL = value("APP_PUBLIC_URL").rstrip("/")

# The access log (core/accesslog.py): errors and slow requests always, a sample of the rest.
ACCESS_LOG_SAMPLE = float(value("ACCESS_LOG_SAMPLE"))
ACCESS_LOG_SLOW_MS = 500

# One handler, on the root: labs.* records propagate to it (and to pytest's caplog). Records
# are written by a background thread (core/logs.py), never inside a request.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(message)s"}},
    "handlers": {"console": {"class": "core.logs.BackgroundStreamHandler",
                             "formatter": "plain"}},
    "loggers": {
        "labs.requests": {"level": "INFO"},  # lesson 2's request log: every request
        "labs.access": {"level": "INFO"},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
}
