"""Settings for glamml, read from the environment.

With nothing set, glamml runs as a development demo: SQLite in the data directory and Celery
tasks executed in-process. Production sets ``GLAMML_ENV=production`` plus ``SECRET_KEY``,
``DATABASE_URL`` and ``REDIS_URL``. A bad value stops start-up with a message naming the variable.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

# Generic Django classes (admin.ModelAdmin[Record]) subscriptable at run time, as the type
# checker sees them: it adds a no-op __class_getitem__ to those classes, nothing else.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use true or false.")


def _env_float(name: str, default: float, *, low: float, high: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if not low <= value <= high:
        raise ImproperlyConfigured(f"{name}={raw!r} must be between {low} and {high}.")
    return value


def _env_int(name: str, default: int, *, low: int, high: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if not low <= value <= high:
        raise ImproperlyConfigured(f"{name}={raw!r} must be between {low} and {high}.")
    return value


GLAMML_ENV = os.environ.get("GLAMML_ENV", "development").strip().lower()
if GLAMML_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(
        f"GLAMML_ENV={GLAMML_ENV!r} is not known: use development, production or test."
    )
PRODUCTION = GLAMML_ENV == "production"

DEBUG = _env_bool("DEBUG", default=not PRODUCTION)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when GLAMML_ENV=production.")
    # Development only: a fixed key keeps sessions alive across restarts of the demo.
    SECRET_KEY = "django-insecure-glamml-development-key-not-for-production-use-0123456789"

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get(
        "ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1]"
    ).split(",")
    if h.strip()
]
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when GLAMML_ENV=production.")
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

DATA_DIR = Path(os.environ.get("GLAMML_DATA_DIR") or BASE_DIR / "var").resolve()
if DATA_DIR.exists() and not DATA_DIR.is_dir():
    raise ImproperlyConfigured(f"GLAMML_DATA_DIR={str(DATA_DIR)!r} exists and is not a directory.")
GLAMML_DATA_DIR = DATA_DIR
GLAMML_MODEL_DIR = DATA_DIR / "models"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "axes",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    # Only for its vendored Swagger UI at /api/docs (without it, the page loads it from a CDN).
    "ninja",
    "catalogue",
    "review",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A view that lost the database answers 503 in the layout (PostgreSQL restarting).
    "glamml.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it answers a locked-out login with the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Login throttling (django-axes): after GLAMML_LOGIN_FAILURE_LIMIT wrong passwords for one
# account, or from one address, logins from there are refused for GLAMML_LOGIN_COOLOFF_MINUTES;
# a success clears the count. Attempts live in the database; an admin unlocks an account or an
# address by deleting its row under "Access attempts" in the admin site.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = _env_int("GLAMML_LOGIN_FAILURE_LIMIT", 5, low=1, high=1000)
AXES_COOLOFF_TIME = timedelta(
    minutes=_env_int("GLAMML_LOGIN_COOLOFF_MINUTES", 15, low=1, high=7 * 24 * 60)
)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# The address the flag rate limit sees too: X-Forwarded-For only behind trusted proxies.
AXES_CLIENT_IP_CALLABLE = "catalogue.access.client_address"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False  # no banner on every manage.py command

if PRODUCTION:
    # In development runserver serves static files; WhiteNoise serves the collected ones.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "glamml.urls"
WSGI_APPLICATION = "glamml.wsgi.application"

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
                "catalogue.roles.roles",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

_database_url = os.environ.get("DATABASE_URL", "")
# A kept connection saves a connect per request in a long-lived process (gunicorn's workers,
# Celery's). Elsewhere it only piles up: the development server runs each request in a thread of
# its own, whose kept connection outlived it (a burst of 100 requests used all of PostgreSQL's
# connections), and tests drop their database afterwards. The health check finds a connection
# the server ended (a restart, pg_terminate_backend) before a request uses it, and reconnects.
CONN_MAX_AGE = _env_int("CONN_MAX_AGE", 60 if PRODUCTION else 0, low=0, high=24 * 3600)
CONN_HEALTH_CHECKS = _env_bool("CONN_HEALTH_CHECKS", default=True)
if _database_url:
    try:
        DATABASES = {
            "default": dj_database_url.parse(
                _database_url, conn_max_age=CONN_MAX_AGE, conn_health_checks=CONN_HEALTH_CHECKS
            )
        }
    except (ValueError, dj_database_url.UnknownSchemeError) as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
else:
    if PRODUCTION:
        raise ImproperlyConfigured("DATABASE_URL must be set when GLAMML_ENV=production.")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "glamml.sqlite3"),
            # SQLite serialises writers; waiting beats failing when the demo's
            # in-process tasks and a request write at once.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }

# Test runs share one PostgreSQL server and one Redis (two checkouts, CI and a developer, the
# parallel processes of one run). Each run has an id that every process it starts inherits
# (scripts/test.sh sets it, else the first process to read these settings makes one); its test
# databases and Redis keys carry it, and pytest-xdist adds each worker's name to the database.
TEST_RUN = ""
if GLAMML_ENV == "test":
    TEST_RUN = os.environ.setdefault("GLAMML_TEST_RUN", secrets.token_hex(4))
    for _database in DATABASES.values():
        if _database["ENGINE"] != "django.db.backends.sqlite3":
            _database["TEST"] = {"NAME": f"test_{_database['NAME']}_{TEST_RUN}"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2 first, as Django's documentation recommends (memory-hard, with argon2-cffi's
# defaults as Django sets them: 100 MiB, 2 passes, 8 lanes); measured beside PBKDF2's 1,000,000
# iterations on this project's 2-core machine it also costs less CPU a login (docs/benchmarks.md).
# The PBKDF2 hashers stay so that passwords stored before still verify; Django re-hashes each
# with Argon2 at its next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

if GLAMML_ENV == "test":
    # Tests create a user or two each (hundreds in all); the default hasher spends a quarter of a
    # second of CPU on every one. Logging in and checking passwords work the same with this one.
    SITE_PASSWORD_HASHERS = PASSWORD_HASHERS  # what a test of the hashing itself restores
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or DATA_DIR / "static")
# Production serves hashed, compressed copies named in a manifest (staticfiles.json), which only
# collectstatic with the same storage writes: the image builds with GLAMML_STATIC_MANIFEST=true
# (without a manifest every page that names a static file is a 500).
STATIC_MANIFEST = _env_bool("GLAMML_STATIC_MANIFEST", default=PRODUCTION)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# collectstatic compresses each file it keeps with gzip and Brotli (about half a minute of CPU,
# most of it the API documentation's bundles): only the hashed copies are kept, since every page
# names its files through the manifest, and source maps, read only by a developer's browser
# tools, are served as they are.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "review:queue"
LOGOUT_REDIRECT_URL = "catalogue:home"

# Celery: with no REDIS_URL every task runs in-process, so the demo needs no broker.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r} must start with redis://, rediss://.")
if PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL must be set when GLAMML_ENV=production.")
# Every key glamml writes to Redis (broker queues, cache) starts with this, so several
# deployments, or test runs and their parallel processes, can share one Redis.
REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX", "")
if TEST_RUN:
    REDIS_KEY_PREFIX += f"test-{TEST_RUN}-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}:"
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = _env_bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# With in-process tasks, the long ones an admin starts (re-route, re-predict, train) run in a
# thread after the response, so the demo shows their progress as production does. Tests run
# them inline unless a test turns this on.
GLAMML_EAGER_IN_BACKGROUND = _env_bool("GLAMML_EAGER_IN_BACKGROUND", default=GLAMML_ENV != "test")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# A web request whose follow-up cannot be sent must not hang: give up on the broker after a
# couple of seconds. The task waits in the outbox (catalogue.dispatch) and is sent later.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
# A message a worker took and never acknowledged (the worker was killed) goes back to its queue
# once it is older than the visibility timeout; workers look for such messages every 10 s. So
# killed work resumes within about GLAMML_VISIBILITY_TIMEOUT + 10 s. A task running longer than
# the timeout is delivered a second time while it runs: every task is idempotent (training
# claims its run), so that costs work, not data.
GLAMML_VISIBILITY_TIMEOUT = _env_int("GLAMML_VISIBILITY_TIMEOUT", 45, low=10, high=86400)
# zlib level of saved model files (glamml.ml.artefacts): 6 makes the language model about 7%
# smaller than 1 for five times the CPU (1.5 s a save). Tests, which train and save hundreds of
# models, use 1 by default; the arrays and how they are read are the same at any level.
GLAMML_MODEL_COMPRESS_LEVEL = _env_int(
    "GLAMML_MODEL_COMPRESS_LEVEL", 1 if GLAMML_ENV == "test" else 6, low=0, high=9
)
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, int | str] = {
    "visibility_timeout": GLAMML_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 2,
    # A broker that vanishes without closing the connection (a dropped network) is noticed.
    "socket_timeout": 15,
}
if REDIS_KEY_PREFIX:
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = REDIS_KEY_PREFIX
CELERY_TASK_ROUTES = {
    "catalogue.tasks.predict_records": {"queue": "inference"},
    "catalogue.tasks.reroute_field": {"queue": "inference"},
    "catalogue.tasks.recalibrate_collection": {"queue": "inference"},
    "catalogue.tasks.predict_pending": {"queue": "inference"},
    "catalogue.tasks.train_field": {"queue": "training"},
    "catalogue.tasks.retrain_due_fields": {"queue": "training"},
    "catalogue.tasks.reap_stale_training_runs": {"queue": "training"},
    "catalogue.tasks.repredict_field": {"queue": "inference"},
    "catalogue.tasks.send_outbox": {"queue": "inference"},
}
CELERY_TASK_SOFT_TIME_LIMIT = _env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300, low=1, high=86400)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
# Beat keeps its schedule in the database (django-celery-beat), so admins can change it in
# the admin site; these entries are written there on start.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "predict-pending": {
        "task": "catalogue.tasks.predict_pending",
        "schedule": _env_int("GLAMML_PREDICT_PENDING_SECONDS", 600, low=10, high=86400),
    },
    "retrain-due-fields": {
        "task": "catalogue.tasks.retrain_due_fields",
        "schedule": _env_int("GLAMML_RETRAIN_CHECK_SECONDS", 3600, low=10, high=86400),
    },
    # Follow-up work saved while the broker was down is sent on the first sweep after it is back.
    "send-outbox": {
        "task": "catalogue.tasks.send_outbox",
        "schedule": _env_int("GLAMML_OUTBOX_SECONDS", 30, low=5, high=3600),
    },
    "reap-stale-training-runs": {
        "task": "catalogue.tasks.reap_stale_training_runs",
        "schedule": 300,
    },
    # Snapshots are recomputed from the database, so running this often costs little and
    # keeps today's figures fresh; alerts are raised once per line crossed.
    "monitor-fields": {
        "task": "catalogue.tasks.monitor_fields",
        "schedule": _env_int("GLAMML_MONITOR_SECONDS", 3600, low=60, high=86400),
    },
}
GLAMML_TRAINING_TIME_LIMIT = _env_int("GLAMML_TRAINING_TIME_LIMIT", 3600, low=1, high=86400)
# A run still queued after RESEND seconds is sent to the training queue again (its message may
# have been lost with a broker's data); one still queued after LIMIT seconds is failed, saying so.
GLAMML_QUEUED_RUN_RESEND_SECONDS = _env_int(
    "GLAMML_QUEUED_RUN_RESEND_SECONDS", 600, low=60, high=86400
)
GLAMML_QUEUED_RUN_LIMIT_SECONDS = _env_int(
    "GLAMML_QUEUED_RUN_LIMIT_SECONDS", 6 * 3600, low=300, high=7 * 86400
)

# A re-route or re-prediction with no sign of progress for this long lost its worker (a server
# restarted mid-run, in the demo too): it is failed, saying so, and its buttons work again.
GLAMML_JOB_STALE_SECONDS = _env_int("GLAMML_JOB_STALE_SECONDS", 900, low=60, high=7 * 86400)

GLAMML_INFERENCE_BATCH_SIZE = _env_int("GLAMML_INFERENCE_BATCH_SIZE", 500, low=1, high=100_000)
# On PostgreSQL a prediction batch's commit returns before its WAL is flushed to disk (the
# transaction's ``synchronous_commit = off``): a batch no longer waits for the disk, but a crash of
# the database server (not of a worker) can lose the last moment's predictions, which the periodic
# predict_pending then makes again. Off by default; human decisions always wait for the disk.
GLAMML_PREDICTIONS_ASYNC_COMMIT = _env_bool("GLAMML_PREDICTIONS_ASYNC_COMMIT", default=False)
GLAMML_DEFAULT_THRESHOLD = _env_float("GLAMML_DEFAULT_THRESHOLD", 0.9, low=0.0, high=1.0)
# What a confidence means in a collection with no evidence yet: this share of itself.
GLAMML_NEW_COLLECTION_RATIO = _env_float("GLAMML_NEW_COLLECTION_RATIO", 0.9, low=0.0, high=1.0)
# Public flags per client address per hour.
GLAMML_FLAG_RATE_LIMIT = _env_int("GLAMML_FLAG_RATE_LIMIT", 10, low=1, high=10_000)
# How long the waiting counts and collection summaries are kept before they are counted again
# (a cataloguer's decision and a public flag refresh the waiting counts at once).
GLAMML_COUNTS_SECONDS = _env_int("GLAMML_COUNTS_SECONDS", 60, low=1, high=86400)
# How many reverse proxies of ours add to X-Forwarded-For (0: use the connection's address).
GLAMML_TRUSTED_PROXIES = _env_int("GLAMML_TRUSTED_PROXIES", 0, low=0, high=10)
# The institution's MARC organization code: the agency of machine-generated values in MARC 883
# and the repository name an OAI-PMH harvester sees.
GLAMML_INSTITUTION = os.environ.get("GLAMML_INSTITUTION", "").strip()
GLAMML_INSTITUTION_NAME = os.environ.get("GLAMML_INSTITUTION_NAME", "glamml").strip()
GLAMML_OAI_ADMIN_EMAIL = os.environ.get("GLAMML_OAI_ADMIN_EMAIL", "webmaster@localhost").strip()
GLAMML_OAI_PAGE_SIZE = _env_int("GLAMML_OAI_PAGE_SIZE", 100, low=1, high=10_000)

# Where people reach the app (https://catalogue.example.org): links in alert e-mails.
GLAMML_SITE_URL = os.environ.get("GLAMML_SITE_URL", "").strip().rstrip("/")

# Alert e-mails go through Django's mail settings; development prints them to the console.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _env_int("EMAIL_PORT", 25, low=1, high=65535)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "glamml@localhost")

CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = _env_int("SECURE_HSTS_SECONDS", 31536000, low=0, high=63072000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_refusal_tracebacks": {"()": "glamml.logfilters.NoTracebackForRefusals"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["no_refusal_tracebacks"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
