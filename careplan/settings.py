"""careplan settings: one module, read from the environment (django-environ).

Development has defaults. With CAREPLAN_ENV=production every secret must be set,
or start-up fails loudly.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

CAREPLAN_ENV = env.str("CAREPLAN_ENV", default="development")
if CAREPLAN_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("CAREPLAN_ENV must be 'development' or 'production'")
PRODUCTION = CAREPLAN_ENV == "production"

DEBUG = env.bool("DEBUG", default=False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production")

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")  # raises ImproperlyConfigured when missing
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="development-only-" + "x" * 50)
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "careplan",
    "selfmonitor",
    "rehab",
    "contacts",
    "careplan.admin_site.CareplanAdminConfig",  # django.contrib.admin, lighter pages
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "careplan.eid",  # allauth's OpenID Connect provider for e-ID (careplan/eid/)
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from our static files
    "django_htmx",
    "template_partials",
    "oauth2_provider",  # /fhir/ machine clients (see the OAuth2 block below)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "careplan.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "careplan.middleware.UserLanguageMiddleware",
    # After the language is known (its refusal is worded for the user).
    "careplan.middleware.FormInputMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After MessageMiddleware: it tells the user why they were logged out.
    "careplan.middleware.SessionIdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "careplan.middleware.StaffMfaRequiredMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "careplan.middleware.NoStoreMiddleware",
]

ROOT_URLCONF = "careplan.urls"
WSGI_APPLICATION = "careplan.wsgi.application"

TEMPLATES = [
    {
        # Django's, with {% load i18n %} keeping literal {% translate %} texts per
        # language (careplan/template_engine.py, careplan/templatetags/careplan_i18n.py).
        "BACKEND": "careplan.template_engine.Templates",
        "NAME": "django",  # engines["django"], as with Django's backend
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A PostgreSQL streaming replica for reports, exports and heavy counts (careplan/replica.py:
# only code inside ``reading_replica()`` reads there; everything else, and every write,
# uses the primary). Tests mirror it onto the test database.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"].update(
        ATOMIC_REQUESTS=False,
        CONN_MAX_AGE=env.int("CONN_MAX_AGE", default=60),
        CONN_HEALTH_CHECKS=True,
        TEST={"MIRROR": "default"},
    )
DATABASE_ROUTERS = ["careplan.replica.ReplicaRouter"]
# The busiest pages' compiled queries run as server-side prepared statements on PostgreSQL
# (careplan/prepared.py: SQL PREPARE/EXECUTE). Turn off behind a pooler in transaction
# mode: it hands each transaction any server connection (PgBouncer's
# max_prepared_statements tracks protocol-level statements, not SQL PREPARE).
CAREPLAN_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")

# Redis must never hang a request: every call gives up after these many seconds (a
# hung Redis accepts the connection and never answers), and redis-py does not retry.
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.5)
REDIS_CONNECT_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", default=0.5)
# After a Redis failure a process uses the database cache this long before trying again.
CAREPLAN_CACHE_FALLBACK_SECONDS = env.int("CAREPLAN_CACHE_FALLBACK_SECONDS", default=30)

# The database cache: the fallback while Redis is down (careplan.cache; the table comes
# from the migration careplan 0008).
_DB_CACHE = {
    "BACKEND": "django.core.cache.backends.db.DatabaseCache",
    "LOCATION": "careplan_cache",
    "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="careplan"),
}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "careplan.cache.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="careplan"),
            "OPTIONS": {
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
                "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
            },
        },
        "db": _DB_CACHE,
    }
else:
    # A real, cross-process cache (rate limits must hold across runserver threads).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env.str("CACHE_DIR", default=str(BASE_DIR / ".cache")),
        },
        "db": _DB_CACHE,
    }

AUTH_USER_MODEL = "careplan.User"
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
LOGOUT_REDIRECT_URL = "home"

# django-allauth: e-mail login, mandatory verification, rate limits on the cache above.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_ADAPTER = "careplan.adapters.AccountAdapter"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
}
# The site's one name: the header and page titles, e-mail subjects and texts, the sender.
CAREPLAN_SITE_NAME = env.str("CAREPLAN_SITE_NAME", default="Min vårdplan")
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{CAREPLAN_SITE_NAME}] "
# Behind a load balancer the client's address is in X-Forwarded-For: trust exactly as many
# proxies as we run (the address the nearest of them saw is the client's), or one header
# that our proxy sets. 0 (default): the socket's address. Rate limits (allauth's per-IP
# login limits, DRF's throttles) key on this address.
CAREPLAN_TRUSTED_PROXY_COUNT = env.int("CAREPLAN_TRUSTED_PROXY_COUNT", default=0)
if CAREPLAN_TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("CAREPLAN_TRUSTED_PROXY_COUNT must be 0 or more")
ALLAUTH_TRUSTED_PROXY_COUNT = CAREPLAN_TRUSTED_PROXY_COUNT
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env.str("CAREPLAN_TRUSTED_CLIENT_IP_HEADER", default="") or None
# Signing up is by invitation (relatives) or created by the care team (patients, staff).
CAREPLAN_OPEN_SIGNUP = env.bool("CAREPLAN_OPEN_SIGNUP", default=False)
# Password login per role (comma-separated: patient, relative, staff). Production with
# e-ID: e.g. "staff" (patients and relatives use e-ID only; staff keep password + TOTP
# beside their IdP). Roles left out are refused at the password login.
CAREPLAN_PASSWORD_LOGIN_ROLES = env.list(
    "CAREPLAN_PASSWORD_LOGIN_ROLES", default=["patient", "relative", "staff"]
)
if not set(CAREPLAN_PASSWORD_LOGIN_ROLES) <= {"patient", "relative", "staff"}:
    raise ImproperlyConfigured("CAREPLAN_PASSWORD_LOGIN_ROLES: patient, relative, staff")

# e-ID through OpenID Connect (careplan/eid/, README "Log in with e-ID"): the providers
# from CAREPLAN_EID_PROVIDERS and CAREPLAN_EID_<ID>_*; in development, when
# CAREPLAN_DEV_IDP_URL is set (make run), the local test IdP's "BankID (test)" and
# "SITHS (test)". Never the test IdP in production.
from careplan.eid import config as eid_config  # noqa: E402

CAREPLAN_DEV_IDP_URL = env.str("CAREPLAN_DEV_IDP_URL", default="")
if PRODUCTION and CAREPLAN_DEV_IDP_URL:
    raise ImproperlyConfigured("CAREPLAN_DEV_IDP_URL (the test IdP) is for development only")
_eid_apps = eid_config.providers_from_env(env, production=PRODUCTION)
if CAREPLAN_DEV_IDP_URL and not _eid_apps:
    _eid_apps = eid_config.dev_providers(CAREPLAN_DEV_IDP_URL)
SOCIALACCOUNT_PROVIDERS = {"eid": {"APPS": _eid_apps}}
SOCIALACCOUNT_ADAPTER = "careplan.eid.adapter.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # never link an account by e-mail
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"  # the e-ID is the proof; e-mail is not asked
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False  # the button POSTs (CSRF-protected)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "careplan"
# TOTP secrets and recovery-code seeds are stored encrypted (Fernet) with these keys
# (careplan.adapters.MFAAdapter): the first encrypts, every one decrypts (rotation).
# Production must set them; development derives one from SECRET_KEY.
MFA_ADAPTER = "careplan.adapters.MFAAdapter"
if PRODUCTION:
    CAREPLAN_MFA_KEYS = env.list("CAREPLAN_MFA_KEYS")  # raises when missing
else:
    CAREPLAN_MFA_KEYS = env.list("CAREPLAN_MFA_KEYS", default=[])
if not CAREPLAN_MFA_KEYS and not PRODUCTION:
    # Development: a key derived from SECRET_KEY, so demo accounts keep working.
    import base64
    import hashlib

    CAREPLAN_MFA_KEYS = [
        base64.urlsafe_b64encode(hashlib.sha256(f"mfa:{SECRET_KEY}".encode()).digest()).decode()
    ]
try:
    from cryptography.fernet import Fernet

    for _key in CAREPLAN_MFA_KEYS:
        Fernet(_key)
except ValueError as exc:
    raise ImproperlyConfigured(
        "CAREPLAN_MFA_KEYS must be Fernet keys (32 url-safe base64-encoded bytes each): "
        "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
    ) from exc
if not CAREPLAN_MFA_KEYS:
    raise ImproperlyConfigured("CAREPLAN_MFA_KEYS must name at least one key")

# Sessions: short idle timeout, closed with the browser.
# The database store, its per-request read compiled once (careplan/sessions.py).
SESSION_ENGINE = "careplan.sessions"
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
CAREPLAN_SESSION_IDLE_SECONDS = SESSION_COOKIE_AGE
# However active, a session ends this long after login (careplan.middleware).
CAREPLAN_SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 60 * 60)

# Security headers.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LANGUAGE_CODE = "sv"
# careplan.models.Language lists the same codes (a user's preferred language).
LANGUAGES = [("sv", _("Swedish")), ("en", _("English")), ("ar", _("Arabic")), ("fi", _("Finnish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Production serves collected files (collectstatic) through whitenoise; development
# serves straight from the finders, so no staticfiles/ directory is needed.
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")) if PRODUCTION else None
WHITENOISE_USE_FINDERS = not PRODUCTION
STATICFILES_DIRS = [BASE_DIR / "static"]
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

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# A hung mail server must not hold a worker forever: SMTP gives up after this long.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default=f"{CAREPLAN_SITE_NAME} <no-reply@careplan.invalid>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: with no REDIS_URL, tasks run eagerly in-process.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# No task runs forever (a hung mail server, a stuck query): soft limit raises in the task,
# the hard limit kills its process (prefork pool). E-mails give up earlier (EMAIL_TIMEOUT).
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
# A dead or hung broker must not hang a web request: short socket timeouts, and the
# outbox hands a task over once (the relay re-sends what did not get through).
# The outbox (careplan.outbox.run_outbox): a claimed row is another worker's again after
# the lease (longer than any task may run); failures back off 1, 2, 4, ... minutes and
# after the last attempt the row is parked as dead for the admin.
CAREPLAN_OUTBOX_LEASE_SECONDS = env.int(
    "CAREPLAN_OUTBOX_LEASE_SECONDS", default=CELERY_TASK_TIME_LIMIT + 60
)
CAREPLAN_OUTBOX_BACKOFF_SECONDS = env.int("CAREPLAN_OUTBOX_BACKOFF_SECONDS", default=60)
CAREPLAN_OUTBOX_MAX_ATTEMPTS = env.int("CAREPLAN_OUTBOX_MAX_ATTEMPTS", default=8)
CAREPLAN_OUTBOX_RELAY_BATCH = 500
# After a failed hand-over to the broker a process leaves it to the relay this long.
CAREPLAN_BROKER_DOWN_SECONDS = env.int("CAREPLAN_BROKER_DOWN_SECONDS", default=30)
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT + 0.5
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=2.0),
    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
    "retry_on_timeout": False,
    # kombu connects for a publish once, not three times with pauses.
    "max_retries": 0,
}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "outbox-relay": {
        "task": "careplan.tasks.relay_outbox",
        "schedule": timedelta(minutes=1),
    },
    "contacts-expire-invitations": {
        "task": "contacts.tasks.expire_invitations",
        "schedule": timedelta(hours=1),
    },
    "selfmonitor-dispatch": {
        "task": "selfmonitor.tasks.dispatch_questionnaires",
        "schedule": timedelta(minutes=5),
    },
    "selfmonitor-remind": {
        "task": "selfmonitor.tasks.remind_questionnaires",
        "schedule": timedelta(minutes=15),
    },
    "selfmonitor-escalate": {
        "task": "selfmonitor.tasks.escalate_alerts",
        "schedule": timedelta(minutes=5),
    },
    "rehab-followup-reminders": {
        "task": "rehab.tasks.queue_followup_reminders",
        "schedule": timedelta(hours=6),
    },
    "contacts-handover-reminders": {
        "task": "contacts.tasks.remind_overdue_handovers",
        "schedule": timedelta(minutes=15),
    },
    "message-escalation": {
        "task": "careplan.tasks.escalate_unanswered_threads",
        "schedule": timedelta(minutes=15),
    },
    "accesslog-partitions": {
        "task": "careplan.tasks.accesslog_partitions",
        "schedule": timedelta(days=1),
    },
    "staff-digests": {
        "task": "careplan.tasks.queue_staff_digests",
        "schedule": timedelta(hours=1),
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON parser with a depth limit and a NUL check (careplan/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "careplan.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "careplan.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", default="600/min"),
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
    },
    # The client's address for anonymous throttling, as for the login limits above.
    "NUM_PROXIES": CAREPLAN_TRUSTED_PROXY_COUNT,
    # JSON errors with a stable "code" (careplan/api_errors.py).
    "EXCEPTION_HANDLER": "careplan.api_errors.api_exception_handler",
}
CSRF_FAILURE_VIEW = "careplan.api_errors.csrf_failure"
SPECTACULAR_SETTINGS = {
    "TITLE": "careplan API",
    "DESCRIPTION": "Care plan, calendar and contact nurse (Min vårdplan).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema promises JSON bodies only (the form parsers serve the browsable API's
    # HTML forms; schemathesis found nested and list fields mangled through them).
    "PARSER_WHITELIST": ["careplan.parsers.SafeJSONParser"],
    # Swagger UI and Redoc from drf-spectacular-sidecar's static files (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "careplan.api_errors.document_errors",
    ],
    # Several models have a "status": each gets a name of its own.
    "ENUM_NAME_OVERRIDES": {
        "PlanStatusEnum": "careplan.models.CarePlan.Status",
        "ThreadStatusEnum": "careplan.models.MessageThread.Status",
        "InterventionStatusEnum": "rehab.models.Intervention.Status",
        "HandoverStateEnum": "contacts.models.HandoverState",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_personnummer": {"()": "careplan.logging.RedactPersonnummerFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["no_personnummer"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# Product settings.
CAREPLAN_ANSWER_WITHIN_DAYS = env.int("CAREPLAN_ANSWER_WITHIN_DAYS", default=2)
# A message thread unanswered this long escalates to the responsible unit's staff, once
# per waiting period (Celery beat, careplan.tasks.escalate_unanswered_threads).
CAREPLAN_MESSAGE_ESCALATE_AFTER_HOURS = env.int("CAREPLAN_MESSAGE_ESCALATE_AFTER_HOURS", default=24)
# Handovers (contacts): the sender's staff keep reading an accepted handover this long
# (default none: access ends at acceptance); a sent handover not accepted within this
# many hours reminds the receiver and alerts the sender (once per step).
CAREPLAN_HANDOVER_READ_GRACE_HOURS = env.int("CAREPLAN_HANDOVER_READ_GRACE_HOURS", default=0)
CAREPLAN_HANDOVER_ACCEPT_WITHIN_HOURS = env.int("CAREPLAN_HANDOVER_ACCEPT_WITHIN_HOURS", default=72)
# The access log's monthly partitions (PostgreSQL; careplan/partitions.py): how many months
# are created ahead, and how many years are kept before a month is dropped.
CAREPLAN_ACCESS_LOG_MONTHS_AHEAD = env.int("CAREPLAN_ACCESS_LOG_MONTHS_AHEAD", default=3)
CAREPLAN_ACCESS_LOG_KEEP_YEARS = env.int("CAREPLAN_ACCESS_LOG_KEEP_YEARS", default=5)
CAREPLAN_SITE_URL = env.str("CAREPLAN_SITE_URL", default="http://127.0.0.1:8000")
LOGIN_URL_PATH = "/accounts/login/"

# FHIR (issue 13). KVÅ's code system: Socialstyrelsen's OID for "Koder, kodtexter för
# Klassifikation av vårdåtgärder (KVÅ)" (Nationell informationsstruktur, NIM – Åtgärd).
REHAB_KVA_SYSTEM = env.str("REHAB_KVA_SYSTEM", default="urn:oid:1.2.752.116.1.3.2.3.4")
# Page size of the /fhir/ endpoint's searchset Bundles (a client may ask for fewer with
# _count, never more than the maximum).
CAREPLAN_FHIR_PAGE_SIZE = env.int("CAREPLAN_FHIR_PAGE_SIZE", default=50)
CAREPLAN_FHIR_MAX_PAGE_SIZE = 200

# --- OAuth2 (django-oauth-toolkit): machine clients of /fhir/ -------------------------------
# Client credentials only for now; each client is a careplan.models.FhirClient bound to a
# care unit and to read scopes (careplan.fhir_clients.FhirClientScopes hands a client only
# its own). Tokens at /o/token/. Create a client: manage.py fhir_client --unit U --name N.
FHIR_READ_SCOPES = {
    f"system/{kind}.read": f"Read {kind} resources"
    for kind in (
        "CarePlan",
        "CareTeam",
        "Observation",
        "Organization",
        "Patient",
        "Questionnaire",
        "QuestionnaireResponse",
        "Task",
    )
}
OAUTH2_PROVIDER = {
    "SCOPES": {**FHIR_READ_SCOPES, "system/*.read": "Read every resource type served"},
    "DEFAULT_SCOPES": [],
    "SCOPES_BACKEND_CLASS": "careplan.fhir_clients.FhirClientScopes",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("FHIR_TOKEN_EXPIRE_SECONDS", default=3600),
    "PKCE_REQUIRED": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    # Every RFC 9700 (OAuth 2.0 Security BCP) behaviour on (check --deploy warns otherwise).
    **{
        f"COMPLIANT_BCP_RFC9700_{flag}": True
        for flag in (
            "IMPLICIT_GRANT",
            "PASSWORD_GRANT",
            "PKCE_METHOD",
            "ACCESS_TOKEN_TRANSPORT",
            "AUTHZ_RESPONSE_ISS",
            "TOKEN_STORAGE",
            "REFRESH_TOKEN",
            "REDIRECT_URI_SCHEME",
            "REDIRECT_URI_MATCHING",
            "PKCE_REQUIRED",
        )
    },
}
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
