"""Plateau settings: one module, driven by environment variables.

Every default is the embedded one (SQLite, local-memory cache, Celery eager,
console email, the local Stripe sandbox) so a fresh clone runs with nothing set.
`DATABASE_URL`, `REDIS_URL`, `CELERY_BROKER_URL`, `STRIPE_SECRET_KEY` and
`STRIPE_API_BASE` switch to real services. `.env.example` lists every variable.
"""

import sys
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"
# Under pytest: cheap password hashing and no allauth rate limits between test cases.
TESTING = env.bool("PLATEAU_TESTING", default="pytest" in sys.modules)

INSECURE_DEV_SECRET_KEY = "django-insecure-plateau-development-key-not-for-production"
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_DEV_SECRET_KEY)
# Rotation: the previous keys, still accepted for sessions, password-reset links and signed values.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

if PRODUCTION:
    # Refuse to boot with development defaults: a missing secret must fail loudly.
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off when DJANGO_ENV=production.")
    if SECRET_KEY == INSECURE_DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("Set SECRET_KEY (50+ random characters) when DJANGO_ENV=production.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("Set ALLOWED_HOSTS when DJANGO_ENV=production.")
    _required = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "STRIPE_SECRET_KEY")
    _missing = [name for name in _required if not env.str(name, default="")]
    if _missing:
        raise ImproperlyConfigured(f"Set {', '.join(_missing)} when DJANGO_ENV=production.")

INSTALLED_APPS = [
    # The admin site of accounts.admin_site: staff need allauth login with TOTP.
    "accounts.admin_config.PlateauAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    # third party
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    # Swagger UI's files served from our own static files: /api/docs/ works offline.
    "drf_spectacular_sidecar",
    "csp",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "auditlog",
    # Versions of content and marketplace items: history, diff and rollback in the admin.
    "reversion",
    "djstripe",
    # ours
    "common",
    "accounts",
    "billing",
    "content",
    "marketplace",
    "analytics",
]

MIDDLEWARE = [
    # Outermost: counts and times every request for `manage.py monitor` (common.metrics).
    "common.metrics.RequestMetricsMiddleware",
    "common.middleware.RequestIdMiddleware",
    # 400 before any view sees a NUL character (PostgreSQL refuses it in text).
    "common.middleware.RefuseNulCharactersMiddleware",
    # Records logged during a request name its user and request id in the system log.
    "common.system_log.SystemLogContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Browser sessions as devices: last use, and sign-out once revoked (accounts.middleware).
    "accounts.middleware.AuthSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # One page_view event per HTML page (common.events.track: buffered, never breaks the page).
    "analytics.middleware.PageViewMiddleware",
    # django-auditlog's, with the actor read when an entry is written (DRF authenticates API calls later).
    "common.middleware.AuditlogActorMiddleware",
    # AxesMiddleware last: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                # The current organization and the switcher in the header.
                "accounts.context_processors.current_organization",
                # request.csp_nonce for the rare template that needs one.
                "csp.context_processors.nonce",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Persistent connections: without them a one-query view is several times slower.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
else:
    # SQLite: wait for a lock instead of failing, as the dev server's threads (the sandbox posts
    # several webhooks at once) and Celery eager share the file. IMMEDIATE takes the write lock
    # when a transaction begins: a transaction that read first and then wanted to write would
    # otherwise fail at once with "database is locked" instead of waiting.
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")
USING_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
            },
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="plateau"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "plateau"}}

SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Auth -----------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
SITE_ID = 1

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Email ------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
# An email provider's HTTP API through django-anymail instead of SMTP/console: "sendgrid" or "postmark".
EMAIL_PROVIDER = env.str("EMAIL_PROVIDER", default="")
ANYMAIL: dict = {}
_EMAIL_PROVIDERS = {
    "sendgrid": ("anymail.backends.sendgrid.EmailBackend", "SENDGRID_API_KEY"),
    "postmark": ("anymail.backends.postmark.EmailBackend", "POSTMARK_SERVER_TOKEN"),
}
if EMAIL_PROVIDER:
    if EMAIL_PROVIDER not in _EMAIL_PROVIDERS:
        raise ImproperlyConfigured(f"EMAIL_PROVIDER must be one of {', '.join(_EMAIL_PROVIDERS)} (or empty).")
    EMAIL_BACKEND, _credential = _EMAIL_PROVIDERS[EMAIL_PROVIDER]
    ANYMAIL[_credential] = env.str(_credential)  # required: fails at boot when missing
    if env.str("EMAIL_PROVIDER_API_URL", default=""):  # a regional endpoint or a relay
        ANYMAIL[f"{EMAIL_PROVIDER.upper()}_API_URL"] = env.str("EMAIL_PROVIDER_API_URL")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Plateau <no-reply@plateau.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery -------------------------------------------------------------------
# No broker URL means Celery runs tasks eagerly in-process (the embedded default).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Workers keep their database connections between tasks (CONN_MAX_AGE, closed when broken or
# old by config/celery.py); Celery's own fixup would close them around every task.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
# Keep LOGGING's handlers (console, system log) in workers: Celery would otherwise replace the root logger's.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A down broker must never hang a request: bound connecting and publishing.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1,
    # Redis: a task taken by a worker that died unacknowledged goes back to the queue after this long.
    # It must exceed the longest task (a backup: see BACKUP_* below, run with its own lock).
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    # ...found by a scan this often (kombu's default scans every 10th of 10 s ticks, i.e. 100 s).
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_SECONDS", default=60),
    "unacked_restore_throttle": 1,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
# Processes per worker (default: one per CPU); beat keeps its schedule state in this file.
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=None)
CELERY_BEAT_SCHEDULE_FILENAME = env.str("CELERY_BEAT_SCHEDULE_FILENAME", default="/tmp/celerybeat-schedule")  # noqa: S108
CELERY_BEAT_SCHEDULE: dict = {}
CELERY_BEAT_SCHEDULE["billing-reconcile"] = {"task": "billing.tasks.subscriptions_reconcile", "schedule": 60 * 60}
CELERY_BEAT_SCHEDULE["common-outbox-relay"] = {"task": "common.outbox_relay", "schedule": 60}
CELERY_BEAT_SCHEDULE["billing-usage-rollover"] = {"task": "billing.tasks.usage_periods_rollover", "schedule": 60 * 60}
CELERY_BEAT_SCHEDULE["billing-webhooks-redrive"] = {"task": "billing.tasks.stripe_webhooks_redrive", "schedule": 5 * 60}
CELERY_BEAT_SCHEDULE["billing-webhooks-prune"] = {"task": "billing.tasks.stripe_webhooks_prune", "schedule": 24 * 3600}
CELERY_BEAT_SCHEDULE["billing-emails-relay"] = {"task": "billing.tasks.billing_emails_relay", "schedule": 5 * 60}
# simplejwt's `flushexpiredtokens` as a job: refresh-token records past their expiry go.
CELERY_BEAT_SCHEDULE["accounts-tokens-flush-expired"] = {
    "task": "accounts.tasks.tokens_flush_expired", "schedule": 24 * 3600,
}
CELERY_BEAT_SCHEDULE["analytics-events-flush"] = {
    "task": "analytics.tasks.events_flush",
    "schedule": env.int("ANALYTICS_FLUSH_SECONDS", default=60),
}
CELERY_BEAT_SCHEDULE["analytics-rollups"] = {"task": "analytics.tasks.rollups_refresh", "schedule": 15 * 60}
CELERY_BEAT_SCHEDULE["analytics-events-prune"] = {"task": "analytics.tasks.events_prune", "schedule": 6 * 3600}

# --- REST framework -----------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # JWT that also refuses tokens of a revoked session family (logout, revoke, reuse).
        "accounts.authentication.JWTFamilyAuthentication",
        # `Authorization: Api-Key <key>`: only endpoints that opt in with HasApiKey accept it.
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["common.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "common.pagination.DefaultPagination",
    "PAGE_SIZE": 25,
    "EXCEPTION_HANDLER": "common.exceptions.api_exception_handler",
    # Per user (or API key, or IP when anonymous): a burst window plus a sustained one.
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.BurstRateThrottle", "accounts.throttling.SustainedRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "burst": env.str("API_THROTTLE_BURST", default="20/second"),
        "sustained": env.str("API_THROTTLE_SUSTAINED", default="100/minute"),
        # Per IP on token obtain/refresh (accounts.throttling.AuthEndpointThrottle).
        "auth": env.str("API_THROTTLE_AUTH", default="10/minute"),
        # Per API key (or user) on features/check-access and track-usage, instead of the two above.
        "features": env.str("API_THROTTLE_FEATURES", default="6000/minute"),
        # Per API key (or user) on analytics/events (batches of up to 100), instead of burst + sustained.
        "events": env.str("API_THROTTLE_EVENTS", default="6000/minute"),
    },
}
# Request bodies larger than this are refused with 400 (the error shape) before parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

SPECTACULAR_SETTINGS = {
    "TITLE": "Plateau API",
    "DESCRIPTION": "Accounts, billing, content and marketplace APIs of Plateau.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from drf-spectacular-sidecar's static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # Every operation that needs credentials documents its 401.
        "common.schema.document_unauthenticated",
    ],
    # Several models have a "status"; name the prompt template's so the names stay stable.
    "ENUM_NAME_OVERRIDES": {"PromptTemplateStatusEnum": "marketplace.models.TemplateStatus"},
}

# Losers of a concurrent refresh of one token within this window get a 401 without
# ending the session; a rotated token presented later revokes its whole family.
JWT_REFRESH_REUSE_GRACE_SECONDS = env.int("JWT_REFRESH_REUSE_GRACE_SECONDS", default=3)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "UPDATE_LAST_LOGIN": True,
    # Tokens carry a fingerprint of the password hash: any password change (page, reset,
    # admin, shell) makes every earlier access and refresh token fail (accounts.services.tokens).
    "CHECK_REVOKE_TOKEN": True,
    "REVOKE_TOKEN_CLAIM": "hash_password",
}

# --- Stripe / dj-stripe -------------------------------------------------------
# dj-stripe only accepts keys shaped like Stripe's (sk_test_ + 24 or more letters/digits).
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="sk_test_PlateauSandbox000000000000000000")
STRIPE_LIVE_MODE = env.bool("STRIPE_LIVE_MODE", default=False)
# Empty means real Stripe. The default points the client at the local sandbox.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="" if PRODUCTION else "http://127.0.0.1:12111")
if STRIPE_API_BASE:
    STRIPE_API_HOST = STRIPE_API_BASE  # read by dj-stripe to set stripe.api_base
STRIPE_TEST_SECRET_KEY = STRIPE_SECRET_KEY if not STRIPE_LIVE_MODE else ""
STRIPE_LIVE_SECRET_KEY = STRIPE_SECRET_KEY if STRIPE_LIVE_MODE else ""
DJSTRIPE_SUBSCRIBER_MODEL = "accounts.Organization"
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_WEBHOOK_VALIDATION = "verify_signature"

# --- Billing ----------------------------------------------------------------------
# A past_due subscription keeps its rights this many days before they are revoked.
BILLING_GRACE_DAYS = env.int("BILLING_GRACE_DAYS", default=3)
# Days of trial on a new Premium subscription started through Checkout (0: none).
BILLING_TRIAL_DAYS = env.int("BILLING_TRIAL_DAYS", default=0)
# Stored Stripe deliveries (dj-stripe's webhook triggers) kept this long once settled.
WEBHOOK_TRIGGER_RETENTION_DAYS = env.int("WEBHOOK_TRIGGER_RETENTION_DAYS", default=30)

# --- Analytics --------------------------------------------------------------------
# Buffered product events (common.events.track) are flushed to the table when this many wait
# (and by beat every ANALYTICS_FLUSH_SECONDS); raw events are kept ANALYTICS_EVENT_RETENTION_DAYS.
ANALYTICS_FLUSH_AT = env.int("ANALYTICS_FLUSH_AT", default=100)
ANALYTICS_FLUSH_SECONDS = env.int("ANALYTICS_FLUSH_SECONDS", default=60)
ANALYTICS_EVENT_RETENTION_DAYS = env.int("ANALYTICS_EVENT_RETENTION_DAYS", default=90)
# --- Marketplace ------------------------------------------------------------------
# The platform's share of each paid template sale, in percent; sellers are credited the rest.
MARKETPLACE_PLATFORM_FEE_PERCENT = env.int("MARKETPLACE_PLATFORM_FEE_PERCENT", default=20)
# Sellers may check a template through the AI provider (AI_PROVIDER; `local` checks structure only).
MARKETPLACE_AI_VALIDATION = env.bool("MARKETPLACE_AI_VALIDATION", default=False)

# --- allauth ----------------------------------------------------------------------
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# Sign-up also asks for the person's name: it names their personal organization.
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupExtraForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"
if TESTING:
    ACCOUNT_RATE_LIMITS = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Plateau"
# Accept the code of the neighbouring 30 s window too (clock drift, RFC 6238 section 6).
MFA_TOTP_TOLERANCE = 1
# Sign-up gives every user a profile and a personal organization (accounts.adapters).
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Plateau] "
# One address per user; changing it verifies the new one before it replaces the old.
ACCOUNT_CHANGE_EMAIL = True
# Adding or changing an email address, changing MFA and creating API keys need a recent
# authentication (accounts.reauthentication): the sign-in or a password/TOTP confirmation
# within this many seconds.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.int("REAUTHENTICATION_TIMEOUT_SECONDS", default=300)
MFA_REAUTHENTICATION_REQUIRED = True
INVITATION_EXPIRY_DAYS = env.int("INVITATION_EXPIRY_DAYS", default=7)

# --- Lockout (django-axes) ----------------------------------------------------------
AXES_ENABLED = True
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "login"
AXES_RESET_ON_SUCCESS = True
# Progressive cool-off (accounts.services.lockout): the base, doubled for each earlier
# lockout of the same account or IP within 24 hours, up to the max.
AXES_LOCKOUT_BASE = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_MAX = timedelta(minutes=env.int("AXES_COOLOFF_MAX_MINUTES", default=24 * 60))
AXES_COOLOFF_TIME = "accounts.services.lockout.lockout_cooloff"
AXES_HANDLER = "accounts.services.lockout.ProgressiveLockoutHandler"
AXES_USERNAME_CALLABLE = "accounts.services.lockout.lockout_username"
AXES_LOCKOUT_CALLABLE = "accounts.views.security.lockout_response"
# One row per lockout is what makes the cool-off progressive; attempts made while
# locked out are refused without extending the lockout.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# The one client address (common.client_ip), as the throttles and the login history use.
AXES_CLIENT_IP_CALLABLE = "common.client_ip.axes_client_ip"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False

# --- Client address ----------------------------------------------------------------
# How many proxies in front of the app append to X-Forwarded-For (0: none, the socket
# address is the client). Throttles, lockout and login history read common.client_ip.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Content-Security-Policy (django-csp) ----------------------------------------------
# Strict: everything from our own origin, no inline script or style, no eval, no framing.
# Templates put behaviour in static/js and looks in static/css (a test renders every
# page and refuses inline scripts, event-handler attributes and style attributes).
# `data:` images are allauth's TOTP QR code and Swagger UI's icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Sessions ------------------------------------------------------------------------
MAX_CONCURRENT_SESSIONS = env.int("MAX_CONCURRENT_SESSIONS", default=5)

# --- Security (production) ----------------------------------------------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"

# --- AI provider (common.ai) ----------------------------------------------------------
# `local` answers offline from Plateau's own content; `openai` calls an OpenAI-compatible API.
AI_PROVIDER = env.str("AI_PROVIDER", default="local")
AI_OPENAI_API_KEY = env.str("AI_OPENAI_API_KEY", default="")
AI_OPENAI_BASE_URL = env.str("AI_OPENAI_BASE_URL", default="")  # empty: api.openai.com
AI_OPENAI_MODEL = env.str("AI_OPENAI_MODEL", default="gpt-4o-mini")
AI_TIMEOUT_SECONDS = env.float("AI_TIMEOUT_SECONDS", default=20.0)
# The AI tutor (content): questions a signed-out visitor may ask a day, question length, history sent.
CONTENT_CHAT_ANONYMOUS_DAILY = env.int("CONTENT_CHAT_ANONYMOUS_DAILY", default=3)
CONTENT_CHAT_MAX_CHARS = 2000
CONTENT_CHAT_HISTORY = 12
# Community: posts and comments a member may write an hour.
CONTENT_COMMUNITY_POSTS_PER_HOUR = env.int("CONTENT_COMMUNITY_POSTS_PER_HOUR", default=10)
if AI_PROVIDER == "openai" and PRODUCTION and not AI_OPENAI_API_KEY:
    raise ImproperlyConfigured("AI_PROVIDER=openai needs AI_OPENAI_API_KEY")

# --- Logging -------------------------------------------------------------------------
# The system log (common.system_log): warnings and errors, plus business events, kept in a table.
SYSTEM_LOG_ENABLED = env.bool("SYSTEM_LOG_ENABLED", default=True)
SYSTEM_LOG_LEVEL = env.str("SYSTEM_LOG_LEVEL", default="WARNING")
SYSTEM_LOG_FLUSH_SECONDS = env.float("SYSTEM_LOG_FLUSH_SECONDS", default=2.0)
SYSTEM_LOG_BATCH_SIZE = env.int("SYSTEM_LOG_BATCH_SIZE", default=100)
SYSTEM_LOG_QUEUE_SIZE = env.int("SYSTEM_LOG_QUEUE_SIZE", default=10_000)
# Tests flush by hand (the handler's flush()) instead of a background writer.
SYSTEM_LOG_WRITER_THREAD = not TESTING
# Failed runs of these Celery tasks are business events of these names.
SYSTEM_LOG_TASK_EVENTS = {"billing.tasks.stripe_webhook_process": "webhook_failed"}
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_JSON = env.bool("LOG_JSON", default=PRODUCTION)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "common.logging.RequestIdFilter"},
        "client_errors": {"()": "common.logging.ClientErrorsWithoutTraceback"},
    },
    "formatters": {
        "readable": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_JSON else "readable",
        },
        # Warnings, errors and business events also go to the SystemLog table (queued, batched).
        "system_log": {
            "()": "common.system_log.SystemLogHandler",
            "record_level": SYSTEM_LOG_LEVEL,
        },
    },
    "root": {"handlers": ["console", "system_log"] if SYSTEM_LOG_ENABLED else ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["client_errors"]},
        "axes": {"level": "WARNING"},
        # The stripe client logs every request at INFO: too chatty beside the dev server.
        "stripe": {"level": "WARNING"},
    },
}

# --- Operations: version, backups -------------------------------------------------------
# Written into backup manifests; empty means the git commit when there is one.
PLATEAU_VERSION = env.str("PLATEAU_VERSION", default="")
BACKUP_DIR = BASE_DIR / env.str("BACKUP_DIR", default="backups")  # relative to the project, or absolute
# Retention (grandfather-father-son): the newest backup of each of the last N days, weeks, months.
BACKUP_KEEP_DAILY = env.int("BACKUP_KEEP_DAILY", default=7)
BACKUP_KEEP_WEEKLY = env.int("BACKUP_KEEP_WEEKLY", default=4)
BACKUP_KEEP_MONTHLY = env.int("BACKUP_KEEP_MONTHLY", default=6)
# Beat backs up daily at this UTC hour and verifies the newest backup weekly (Sunday) an hour later.
BACKUP_HOUR = env.int("BACKUP_HOUR", default=3)
BACKUP_SCHEDULE_ENABLED = env.bool("BACKUP_SCHEDULE_ENABLED", default=True)
# A second copy of each backup in a Django storage, e.g. S3-compatible with django-storages (installed):
# BACKUP_REMOTE_STORAGE=storages.backends.s3.S3Storage and BACKUP_REMOTE_OPTIONS as JSON
# ({"bucket_name": "...", "endpoint_url": "...", "region_name": "..."}; docs/operations.md). Off (empty) by default.
BACKUP_REMOTE_STORAGE = env.str("BACKUP_REMOTE_STORAGE", default="")
if BACKUP_REMOTE_STORAGE:
    STORAGES["backups"] = {"BACKEND": BACKUP_REMOTE_STORAGE, "OPTIONS": env.json("BACKUP_REMOTE_OPTIONS", default={})}
if BACKUP_SCHEDULE_ENABLED:
    from celery.schedules import crontab

    CELERY_BEAT_SCHEDULE["operations-backup"] = {
        "task": "common.tasks.backup_scheduled", "schedule": crontab(minute=0, hour=BACKUP_HOUR),
    }
    CELERY_BEAT_SCHEDULE["operations-backup-verify"] = {
        "task": "common.tasks.backup_verify_scheduled",
        "schedule": crontab(minute=0, hour=(BACKUP_HOUR + 1) % 24, day_of_week="sun"),
    }
SYSTEM_LOG_RETENTION_DAYS = env.int("SYSTEM_LOG_RETENTION_DAYS", default=30)
# Beat writes a heartbeat row this often; `monitor` alerts when the newest is too old.
BEAT_HEARTBEAT_SECONDS = env.float("BEAT_HEARTBEAT_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE["operations-beat-heartbeat"] = {
    "task": "common.tasks.beat_heartbeat", "schedule": BEAT_HEARTBEAT_SECONDS,
    "options": {"expires": BEAT_HEARTBEAT_SECONDS},  # a tick nobody ran in time is dropped, not piled up
}
CELERY_BEAT_SCHEDULE["operations-system-log-prune"] = {"task": "common.tasks.system_log_prune", "schedule": 24 * 3600}

# --- Sentry (off unless SENTRY_DSN is set) ------------------------------------------------
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from common.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN, environment=env.str("SENTRY_ENVIRONMENT", default=DJANGO_ENV), release=PLATEAU_VERSION,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# --- monitor (manage.py monitor --once exits 2 when a reading is above its threshold) ---------------
MONITOR_THRESHOLDS = {
    "error_rate": env.float("MONITOR_MAX_ERROR_RATE", default=0.02),  # share of 5xx responses
    "p95_ms": env.float("MONITOR_MAX_P95_MS", default=500.0),
    "queue_depth": env.int("MONITOR_MAX_QUEUE_DEPTH", default=500),
    "failed_webhooks": env.int("MONITOR_MAX_FAILED_WEBHOOKS", default=0),
    "system_errors": env.int("MONITOR_MAX_SYSTEM_ERRORS", default=20),
    "backup_age_hours": env.float("MONITOR_MAX_BACKUP_AGE_HOURS", default=26.0),
    "beat_age_seconds": env.float("MONITOR_MAX_BEAT_AGE_SECONDS", default=3 * BEAT_HEARTBEAT_SECONDS),
}
