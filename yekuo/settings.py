"""Settings for yekuo, read from the environment.

One module for every run mode. With nothing set the project runs embedded: a SQLite
file and a filesystem message broker under ``var/``, so that a real Celery worker and
beat run beside the web server on one laptop. ``DATABASE_URL`` and ``REDIS_URL`` switch
to PostgreSQL and Redis. ``YEKUO_PROFILE=production`` turns on the deployment
hardening and refuses to start without ``SECRET_KEY``.
"""

import copy
from datetime import date
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent
# Local state of the embedded mode (SQLite file, broker folder, cache, uploads).
VAR_DIR = Path(env.str("YEKUO_VAR_DIR", default=str(BASE_DIR / "var")))

PROFILE = env.str("YEKUO_PROFILE", default="development")
if PROFILE not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"YEKUO_PROFILE must be 'development' or 'production', not {PROFILE!r}."
    )
PRODUCTION = PROFILE == "production"

if PRODUCTION:
    # A production process must never fall back to a key that is public in the code.
    try:
        SECRET_KEY = env.str("SECRET_KEY")
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured("SECRET_KEY must be set when YEKUO_PROFILE=production.") from exc
    DEBUG = env.bool("DEBUG", default=False)
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
else:
    SECRET_KEY = env.str(
        "SECRET_KEY", default="development-only-key-do-not-use-in-production-yekuo"
    )
    # Off unless asked for (DEBUG=1): the debug pages show settings and the URL list to
    # anyone who reaches the server, and `make run` is reachable on a shared network.
    DEBUG = env.bool("DEBUG", default=False)
    ALLOWED_HOSTS = env.list(
        "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"]
    )

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "accounts",
    "applications",
    "scheduling",
    "supervision",
    "integration",
    # Tools beside the product: they depend on the apps above, nothing depends on them.
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session has passed the second step.
    "django_otp.middleware.OTPMiddleware",
    # The database's audit triggers learn who writes from the request being served.
    "yekuo.audit.AuditActorMiddleware",
    # Every page requires a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Ends idle and too old sessions (after the messages, which tell the person why).
    "accounts.sessions.SessionLimitsMiddleware",
    # Holds a session at the second step (or the enrolment) until it is verified.
    "accounts.mfa.SecondStepMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Authenticated API answers carry personal data: never stored by caches or browsers.
    "yekuo.api.middleware.NoStoreApiMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After the session and the user are known: the reads a dashboard or API GET may send
    # to a read replica (yekuo.routers).
    "yekuo.routers.ReplicaReadsMiddleware",
    # Innermost: frames the 404 and 405 answers built without the layout.
    "yekuo.errorpages.FramedErrorPagesMiddleware",
]
CSRF_FAILURE_VIEW = "yekuo.errorpages.csrf_failure"

ROOT_URLCONF = "yekuo.urls"
WSGI_APPLICATION = "yekuo.wsgi.application"
ASGI_APPLICATION = "yekuo.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
                "applications.context_processors.todo_count",
            ],
            "libraries": {"fragments": "yekuo.fragments"},
        },
    },
]

# Database: SQLite inside the project when DATABASE_URL is absent.
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=4)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'yekuo.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share one file: wait for locks, do not fail.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    if "DATABASE_URL" not in env:
        # The embedded database lives in var/, which a fresh checkout does not have yet.
        VAR_DIR.mkdir(parents=True, exist_ok=True)
else:
    # PostgreSQL serves short OLTP queries: its JIT compiler costs more than it saves on
    # them (measured: 516 ms of a 721 ms list query at 100,000 applications). Every
    # connection of yekuo's processes starts with these session settings.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = env.str(
        "DB_SESSION_OPTIONS", default="-c jit=off -c work_mem=16MB"
    )
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3" and DB_POOL_MAX_SIZE > 0:
    # PostgreSQL through a bounded pool in each process (psycopg_pool): a process never
    # holds more than DB_POOL_MAX_SIZE connections, however many requests arrive at once;
    # a request waits up to DB_POOL_TIMEOUT seconds for one to come free. Django hands a
    # connection back to the pool at the end of each request, which requires
    # CONN_MAX_AGE = 0. The budget of a deployment is in the README ("Serving").
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(env.int("DB_POOL_MIN_SIZE", default=1), DB_POOL_MAX_SIZE),
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
    }
elif DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    # DB_POOL_MAX_SIZE=0: no pool (e.g. behind PgBouncer); one connection per thread,
    # kept for CONN_MAX_AGE seconds.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# A read replica (yekuo.routers): with DATABASE_REPLICA_URL (a streaming replica of the
# primary, same user and session options), the GETs under REPLICA_READ_PATHS (the
# supervisors' dashboard, the API's lists and details) read from it until they write.
# In the tests the alias mirrors the test database (TEST MIRROR), and REPLICA_READS is
# turned on by the tests that prove the routing.
if "DATABASE_REPLICA_URL" in env:
    DATABASES["replica"] = {
        **copy.deepcopy(DATABASES["default"]),
        **env.db("DATABASE_REPLICA_URL"),
        "OPTIONS": copy.deepcopy(DATABASES["default"].get("OPTIONS", {})),
        "TEST": {"MIRROR": "default"},
    }
REPLICA_READS = env.bool("REPLICA_READS", default="replica" in DATABASES)
REPLICA_READ_PATHS = env.list("REPLICA_READ_PATHS", default=["/dashboard/", "/api/v1/"])
DATABASE_ROUTERS = ["yekuo.routers.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Failed logins: after this many failures for one user name from one address within the
# window (the cool-off), that user name is refused from that address until the window has
# passed; other addresses are not affected, so nobody can lock someone else out. After
# LOGIN_ADDRESS_FAILURE_LIMIT failures from one address for any user names, that address
# is refused (against trying one password on many names). An administrator can unlock
# both early (admin: users, login attempts).
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=20)
LOGIN_FAILURE_WINDOW_MINUTES = env.int("LOGIN_FAILURE_WINDOW_MINUTES", default=15)
# Sessions end after SESSION_IDLE_MINUTES without a request and SESSION_ABSOLUTE_HOURS
# after the sign-in however busy (accounts.sessions); the cookie lives no longer.
# Assigning, re-planning and exporting need the password within REAUTH_MINUTES.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_ABSOLUTE_HOURS = env.int("SESSION_ABSOLUTE_HOURS", default=12)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_HOURS * 3600
REAUTH_MINUTES = env.int("REAUTH_MINUTES", default=15)
# Two-step sign-in (TOTP, django-otp): the roles that must enrol a device and give a
# code at every sign-in. Required for administrators and supervisors in production;
# the development profile and its demo logins go without unless MFA_REQUIRED=1.
# Anyone else may enrol (and is then asked for the code too).
MFA_REQUIRED_ROLES = (
    ["administrator", "supervisor"] if env.bool("MFA_REQUIRED", default=PRODUCTION) else []
)
OTP_TOTP_ISSUER = "yekuo"
# How many reverse proxies of our own stand in front of the application server. Zero: the
# client address is REMOTE_ADDR and X-Forwarded-For is ignored (anyone can write it).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Internationalization: Chinese first, English second.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates as people write them in each language (2026年12月3日, 12月3日).
FORMAT_MODULE_PATH = ["yekuo.formats"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# The development profile serves static files straight from the apps and static/ (no
# collectstatic), whether DEBUG is on or off; production serves the collected copy.
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# WhiteNoise serves the static files in every profile (runserver's own serving is off
# through whitenoise.runserver_nostatic); in development straight from the source folders,
# so that `make run` needs no collectstatic, whether DEBUG is on or off.
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Redis when REDIS_URL is set; otherwise an embedded broker in a local folder so that
# a real worker and beat still run, and a file cache the processes share.
REDIS_URL = env.str("REDIS_URL", default="")
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # A task not acknowledged within the visibility timeout is delivered again; every
    # retry backoff (at most 300 s) stays well below it.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        "socket_connect_timeout": 4,
        "socket_timeout": 10,
    }
    # Redis unreachable: the cache answers from local memory (and logs it) rather than
    # failing the request; short timeouts keep a dead Redis from holding a request.
    CACHES = {
        "default": {
            "BACKEND": "yekuo.cache.FailoverRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "yekuo",
            "OPTIONS": {
                "socket_connect_timeout": 1,
                "socket_timeout": 2,
                "RETRY_SECONDS": env.int("CACHE_RETRY_SECONDS", default=10),
            },
        }
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_RESULT_BACKEND = f"file://{VAR_DIR / 'results'}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Broadcast (worker control) messages; kombu's default is a folder in the cwd.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A task is acknowledged after it ran, so a worker that dies mid-task leaves it for
# another worker; tasks are written to be safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message at a time per process: long sweeps must not hoard queued work.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 4
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The deviation sweep: how often, and how many applications one task forecasts (a batch
# of 1,000 holds about 17,000 activity rows, a few tens of MB, and takes about a second).
# Each batch costs some 20 ms of its own (its queries, transaction and task); with one
# worker on two cores, batches of 1,000 swept 10-15 % faster than batches of 500, and
# batches of 2,000 no faster still.
SWEEP_INTERVAL_MINUTES = env.int("SWEEP_INTERVAL_MINUTES", default=10)
SWEEP_BATCH_SIZE = env.int("SWEEP_BATCH_SIZE", default=1000)
# Assignment runs on each new application (on commit) and whenever a manager gets more
# room; the catch-up only finds what a lost message left waiting, so it runs rarely.
ASSIGNMENT_CATCH_UP_MINUTES = env.int("ASSIGNMENT_CATCH_UP_MINUTES", default=15)
# Two queues: the default one carries what people wait for (the sweep's batches, the
# re-analysis after a change, assignment on create); the heavy periodic work goes to its
# own, so that a long KPI snapshot or digest never holds up a sweep batch. A worker started
# without ``-Q`` (bin/run's, one process in the embedded mode) consumes every queue
# declared here; docker-compose.yml runs one worker per queue.
CELERY_TASK_DEFAULT_QUEUE = "celery"
HEAVY_QUEUE = "heavy"
# Webhook deliveries wait on other systems' answers (up to WEBHOOK_TIMEOUT_SECONDS each):
# their own queue keeps a slow receiver from holding up a sweep batch.
WEBHOOK_QUEUE = "webhooks"
CELERY_TASK_QUEUES = (Queue(CELERY_TASK_DEFAULT_QUEUE), Queue(HEAVY_QUEUE), Queue(WEBHOOK_QUEUE))
CELERY_TASK_ROUTES = {
    "integration.tasks.deliver_webhooks": {"queue": WEBHOOK_QUEUE},
    "applications.tasks.snapshot_kpis": {"queue": HEAVY_QUEUE},
    "applications.tasks.send_daily_digest": {"queue": HEAVY_QUEUE},
    "applications.tasks.assign_unassigned": {"queue": HEAVY_QUEUE},
    "applications.tasks.purge_idempotency_keys": {"queue": HEAVY_QUEUE},
    "applications.tasks.archive_old_rows": {"queue": HEAVY_QUEUE},
    "applications.tasks.level_capacity": {"queue": HEAVY_QUEUE},
    "applications.tasks.level_region": {"queue": HEAVY_QUEUE},
    "scheduling.tasks.learn_durations": {"queue": HEAVY_QUEUE},
}
WEBHOOK_POLL_SECONDS = env.int("WEBHOOK_POLL_SECONDS", default=30)
# Beat sends the heartbeat, a worker records it; /readyz reports the worker "stale" when
# the last one is older than three intervals (one lost beat is not an outage).
HEARTBEAT_SECONDS = env.int("HEARTBEAT_SECONDS", default=60)
WORKER_STALE_SECONDS = env.int("WORKER_STALE_SECONDS", default=3 * HEARTBEAT_SECONDS)
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {
        "task": "yekuo.tasks.heartbeat",
        "schedule": HEARTBEAT_SECONDS,
    },
    # Deliveries are sent on commit of the change; this sends the retries when due and
    # whatever a lost message left waiting.
    "webhook-deliveries": {
        "task": "integration.tasks.deliver_webhooks",
        "schedule": WEBHOOK_POLL_SECONDS,
    },
    "deviation-sweep": {
        "task": "applications.tasks.sweep_deviations",
        "schedule": SWEEP_INTERVAL_MINUTES * 60,
    },
    "assign-unassigned": {
        "task": "applications.tasks.assign_unassigned",
        "schedule": ASSIGNMENT_CATCH_UP_MINUTES * 60,
    },
    # What each template activity really takes, learned nightly from the finished ones.
    "learn-durations": {
        "task": "scheduling.tasks.learn_durations",
        "schedule": crontab(hour=1, minute=30),
    },
    "archive-old-rows": {
        "task": "applications.tasks.archive_old_rows",
        # At night, between the KPI snapshot and the morning digest; a first run at a
        # province's scale may outlast the task's time limit, and the next night goes on.
        "schedule": crontab(hour=2, minute=30),
    },
    "idempotency-key-purge": {
        "task": "applications.tasks.purge_idempotency_keys",
        "schedule": 3600,
    },
    "daily-digest": {
        "task": "applications.tasks.send_daily_digest",
        "schedule": crontab(
            hour=env.int("DIGEST_HOUR", default=7), minute=env.int("DIGEST_MINUTE", default=30)
        ),
    },
    "kpi-snapshot": {
        "task": "applications.tasks.snapshot_kpis",
        # Before midnight, so the snapshot is labelled with the day it describes.
        "schedule": crontab(hour=23, minute=45),
    },
}

# Outbound events (webhooks, the integration app). The waits, in seconds, after each failed
# attempt: with the first attempt, eight in 27 hours; then the delivery is given up and its
# subscription paused.
WEBHOOK_RETRY_SCHEDULE = env.list(
    "WEBHOOK_RETRY_SCHEDULE", cast=int, default=[5, 300, 1800, 7200, 18000, 36000, 36000]
)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
WEBHOOK_BATCH_SIZE = env.int("WEBHOOK_BATCH_SIZE", default=50)
WEBHOOK_SENDERS = env.int("WEBHOOK_SENDERS", default=8)
WEBHOOK_SECRET_OVERLAP_HOURS = env.int("WEBHOOK_SECRET_OVERLAP_HOURS", default=24)
# The CloudEvents ``source`` of every event: this installation, as a URI reference.
WEBHOOK_SOURCE = env.str("WEBHOOK_SOURCE", default="urn:yekuo")

# The customer's progress link: how long a new one lasts, and how many requests an address
# may send its pages a minute.
CUSTOMER_LINK_DAYS = env.int("CUSTOMER_LINK_DAYS", default=180)
CUSTOMER_PAGE_RATE = env.int("CUSTOMER_PAGE_RATE", default=30)

# Scheduling. The weekday (0 = Monday) on which supply-plan review meetings take place;
# plans hold their review meetings on it. Set empty for an office that convenes a review
# meeting whenever the work is ready (no weekly meeting day).
REVIEW_MEETING_WEEKDAY = (
    env.int("REVIEW_MEETING_WEEKDAY", default=2)
    if env.str("REVIEW_MEETING_WEEKDAY", default="2").strip()
    else None
)
if REVIEW_MEETING_WEEKDAY is not None and not 0 <= REVIEW_MEETING_WEEKDAY <= 6:
    raise ImproperlyConfigured("REVIEW_MEETING_WEEKDAY must be 0 (Monday) to 6 (Sunday) or empty.")
# Years beyond the holiday data's State Council notices: use the statutory holidays known by
# rule (flagged as estimated on the pages and in the admin) instead of refusing to plan.
CALENDAR_ALLOW_ESTIMATED_YEARS = env.bool("CALENDAR_ALLOW_ESTIMATED_YEARS", default=True)

# Plausible input: a date outside this window is a typing error, not a fact (a 0001-01-01
# acceptance would plan two thousand years of lateness). The earliest day is fixed; the
# latest is today plus the given number of years. Capacities are bounded by what a single
# connection can physically take.
PLAUSIBLE_DATE_EARLIEST = date.fromisoformat(
    env.str("PLAUSIBLE_DATE_EARLIEST", default="2000-01-01")
)
PLAUSIBLE_DATE_YEARS_AHEAD = env.int("PLAUSIBLE_DATE_YEARS_AHEAD", default=5)
CAPACITY_KVA_MAX = env.int("CAPACITY_KVA_MAX", default=2_000_000)
# The longest period an assessment (and its exports) may cover.
ASSESSMENT_MAX_YEARS = env.int("ASSESSMENT_MAX_YEARS", default=10)

# Documents of applications: the largest upload accepted.
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=20 * 1024 * 1024)

# Bounded work per request. A JSON body larger than DATA_UPLOAD_MAX_MEMORY_SIZE is refused
# with 413 (document uploads keep DOCUMENT_MAX_BYTES); API JSON nested deeper than
# API_JSON_MAX_DEPTH or with a number longer than API_JSON_MAX_NUMBER_DIGITS characters is
# refused with 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=64)
API_JSON_MAX_NUMBER_DIGITS = env.int("API_JSON_MAX_NUMBER_DIGITS", default=40)
# The what-if endpoints (schedule/compute, schedule/analyse-delay): the largest network
# (413 beyond; real networks have at most a few hundred activities), the longest number of
# working days any duration, lag or planned duration may have (400 beyond), the critical
# paths listed beside their count, and the wall-clock budget of one computation (503 with
# Retry-After beyond: within the size limits only an overloaded server runs out of it).
NETWORK_MAX_ACTIVITIES = env.int("NETWORK_MAX_ACTIVITIES", default=2000)
NETWORK_MAX_LINKS = env.int("NETWORK_MAX_LINKS", default=20000)
NETWORK_MAX_DAYS = env.int("NETWORK_MAX_DAYS", default=3650)
CRITICAL_PATHS_LISTED = env.int("CRITICAL_PATHS_LISTED", default=20)
COMPUTE_TIME_BUDGET_SECONDS = env.float("COMPUTE_TIME_BUDGET_SECONDS", default=5.0)

# Readiness probe: how long a dependency may take to answer.
READINESS_TIMEOUT_SECONDS = env.float("READINESS_TIMEOUT_SECONDS", default=2.0)

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default=(
        "django.core.mail.backends.smtp.EmailBackend"
        if PRODUCTION
        else "django.core.mail.backends.filebased.EmailBackend"
    ),
)
# Development mail is written to files here (one file per connection), not to the console.
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="yekuo@localhost")

# The REST API (yekuo/api/): token or session authentication, problem-details errors,
# throttling per token. Rates are "N/second|minute|hour|day".
# The audit trail (yekuo.audit): the models whose changes the database records, each with
# the fields left out (figures the sweep recomputes) and the secrets recorded as changed
# without their values; the link tables of roles, recorded as rows are added or removed;
# and the logs that are append-only on PostgreSQL.
AUDITED_MODELS = {
    "applications.Application": {
        "exclude": [
            "forecast_finish_date",
            "total_float",
            "time_limit_status",
            "time_limit_clock",
            "capacity_as_of",
            "levelled_finish_date",
            "capacity_delay",
            "capacity_waits",
            "capacity_holds",
            "sweep_fingerprint",
            "version",
            "updated_at",
        ]
    },
    "applications.Customer": {},
    # Who accepted or dismissed a measure, and when (its effect is rewritten by each levelling).
    "applications.CapacityMeasure": {
        "exclude": [
            "as_of",
            "applications_helped",
            "applications_hurt",
            "days_saved",
            "commitments_kept",
            "commitments_lost",
            "effect",
            "updated_at",
        ]
    },
    "applications.TimeLimit": {},
    "applications.DocumentRequirement": {},
    "scheduling.Activity": {
        "exclude": [
            "forecast_start",
            "forecast_finish",
            "forecast_tf",
            "forecast_ff",
            "is_critical",
            "updated_at",
        ]
    },
    "scheduling.Baseline": {},
    "scheduling.Crew": {"exclude": ["updated_at", "load", "over_capacity_days"]},
    "scheduling.CrewCapacityChange": {},
    "scheduling.NetworkTemplate": {"exclude": ["updated_at"]},
    "scheduling.ActivityTemplate": {},
    "scheduling.CalendarOverride": {},
    "scheduling.CalendarYear": {},
    "accounts.User": {
        "exclude": ["last_login", "failed_login_count", "last_failed_login_at"],
        "secrets": ["password"],
    },
    "accounts.AccountManagerProfile": {"exclude": ["last_assigned_at"]},
    "accounts.Department": {},
    "accounts.Region": {},
    "accounts.ApiToken": {"exclude": ["last_used_at"], "secrets": ["digest"]},
    "auth.Group": {},
}
AUDITED_LINKS = ["accounts.User.groups", "auth.Group.permissions", "accounts.User.user_permissions"]
APPEND_ONLY_MODELS = [
    "applications.StageTransition",
    "applications.AssignmentChange",
    "scheduling.ActivityEvent",
    "scheduling.DeviationAnswer",
]

# API lists count exactly up to this many rows; beyond, PostgreSQL's estimate (README).
API_EXACT_COUNT_LIMIT = env.int("API_EXACT_COUNT_LIMIT", default=10_000)
# Search (applications.search): a text found in at most this many customers and
# applications is looked up by their keys; a more common one fills the page by walking the
# applications in page order.
SEARCH_CANDIDATES_MAX = env.int("SEARCH_CANDIDATES_MAX", default=5_000)

# API tokens: valid for this many days unless asked otherwise, and never longer than the
# maximum (a token that must live longer is made again).
API_TOKEN_DEFAULT_DAYS = env.int("API_TOKEN_DEFAULT_DAYS", default=90)
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", default=365)
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="1200/minute")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an unauthenticated request is answered 401 with WWW-Authenticate.
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.authentication.TokenScopePermission",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["yekuo.api.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "yekuo.api.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "yekuo.api.pagination.Pagination",
    "DEFAULT_THROTTLE_CLASSES": ["yekuo.api.throttles.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": API_THROTTLE_RATE},
    "EXCEPTION_HANDLER": "yekuo.api.problems.exception_handler",
    "PAGE_SIZE": 50,
}
# A retried POST with the same Idempotency-Key replays its first response for this long.
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=24)
SPECTACULAR_SETTINGS = {
    "TITLE": "yekuo API",
    "DESCRIPTION": _(
        "Large-customer service connections: applications, schedules, deviations. "
        "Authenticate with the header `Authorization: Token <key>`. Errors are "
        "application/problem+json. PATCH and transitions need If-Match with the "
        "application's ETag; POSTs accept an Idempotency-Key for safe retries."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ApplicationStateEnum": "applications.models.ApplicationState",
        "DeviationStatusEnum": "scheduling.serializers.DeviationStatus",
        "ProposalStatusEnum": "scheduling.serializers.ProposalStatus",
        # Four fields are called kind: each enum keeps a name of its own, and the activity's
        # keeps the name it had when it was the only one.
        "KindEnum": "scheduling.models.ActivityKind",
        "NotificationKindEnum": "accounts.models.NotificationKind",
        "ProposalKindEnum": "scheduling.models.Proposal.Kind",
        "DocumentKindEnum": "yekuo.domain.DocumentKind",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Content-Security-Policy (django-csp): scripts only from our own files (htmx and
# static/js), no inline scripts or on* handlers, no eval. Inline style attributes are
# allowed: the SVG charts size themselves with computed widths in style="" (and the API
# documentation's bundle injects styles); scripts are what the policy is for.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

if PRODUCTION:
    # HTTPS is terminated by the reverse proxy in front of gunicorn.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # The probes are fetched by the orchestrator over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# The archive (yekuo.archive): resolved deviations, decided proposals and read
# notifications move to their archive tables this many days after they were finished with,
# in transactions of ARCHIVE_BATCH_SIZE rows (1,000 deviation rows are a few hundred kB and
# hold their locks for well under a second).
ARCHIVE_AFTER_DAYS = env.int("ARCHIVE_AFTER_DAYS", default=180)
ARCHIVE_BATCH_SIZE = env.int("ARCHIVE_BATCH_SIZE", default=1000)

# The probability of keeping the promise: runs of the Monte Carlo forecast per application
# (scheduling.risk); 0 turns the forecast off (the analysis then stores none).
RISK_SAMPLES = env.int("RISK_SAMPLES", default=2000)
if not 0 <= RISK_SAMPLES <= 100_000:
    raise ImproperlyConfigured("RISK_SAMPLES must be 0 (off) to 100000.")
# An application in progress is "at risk" when its probability of keeping the commitment is
# below this share (the dashboard's list, the supervisors' digest), "likely late" below the
# second.
RISK_AT_RISK_BELOW = env.float("RISK_AT_RISK_BELOW", default=0.8)
RISK_LIKELY_LATE_BELOW = env.float("RISK_LIKELY_LATE_BELOW", default=0.5)

# Page fragments are cached under a digest of what they show (yekuo.fragments). With the
# check on (the tests), a fragment found in the cache is rendered again and compared: a
# body that reads more than its key names raises instead of serving a stale answer.
FRAGMENT_CACHE_CHECK = env.bool("FRAGMENT_CACHE_CHECK", default=False)
# Off: every fragment is rendered on every request (the benchmarks compare both).
FRAGMENT_CACHE = env.bool("FRAGMENT_CACHE", default=True)

# Shared capacity (scheduling.levelling): whether important customers' work goes first in the
# queue for a crew or a review meeting (else least float against the commitment first).
LEVELLING_IMPORTANT_FIRST = env.bool("LEVELLING_IMPORTANT_FIRST", default=False)
