"""careplan/settings.py: development has defaults, production fails loudly on a missing or
malformed secret, and production's security settings pass ``check --deploy``.

Each case starts a fresh Python process, because settings are read once at start-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 10 + "production-secret-for-tests-only-" + "0123456789abcdef" * 2

# Every variable settings.py reads; each case starts from none of them.
READ = [
    "CAREPLAN_ENV", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL", "CONN_MAX_AGE", "DATABASE_PREPARED_STATEMENTS", "REDIS_URL", "CACHE_KEY_PREFIX", "CACHE_DIR",
    "CAREPLAN_OPEN_SIGNUP", "SESSION_IDLE_SECONDS", "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS", "EMAIL_URL", "DEFAULT_FROM_EMAIL", "LOG_LEVEL",
    "CAREPLAN_ANSWER_WITHIN_DAYS", "CAREPLAN_MESSAGE_ESCALATE_AFTER_HOURS",
    "CAREPLAN_HANDOVER_READ_GRACE_HOURS", "CAREPLAN_HANDOVER_ACCEPT_WITHIN_HOURS",
    "DATABASE_REPLICA_URL",
    "CAREPLAN_ACCESS_LOG_MONTHS_AHEAD", "CAREPLAN_ACCESS_LOG_KEEP_YEARS",
    "CAREPLAN_SITE_URL", "CAREPLAN_SITE_NAME", "STATIC_ROOT", "SESSION_ABSOLUTE_SECONDS",
    "CAREPLAN_TRUSTED_PROXY_COUNT", "CAREPLAN_TRUSTED_CLIENT_IP_HEADER",
    "API_THROTTLE_USER", "API_THROTTLE_ANON", "CAREPLAN_MFA_KEYS",
    # Faults (issue 12): timeouts, the cache's fallback window, the outbox's back-off.
    "REDIS_SOCKET_TIMEOUT", "REDIS_CONNECT_TIMEOUT", "CAREPLAN_CACHE_FALLBACK_SECONDS",
    "EMAIL_TIMEOUT", "CELERY_TASK_SOFT_TIME_LIMIT", "CELERY_TASK_TIME_LIMIT",
    "CAREPLAN_OUTBOX_LEASE_SECONDS", "CAREPLAN_OUTBOX_BACKOFF_SECONDS",
    "CAREPLAN_OUTBOX_MAX_ATTEMPTS", "CAREPLAN_BROKER_DOWN_SECONDS",
    "CELERY_BROKER_SOCKET_TIMEOUT",
    "CAREPLAN_PASSWORD_LOGIN_ROLES", "CAREPLAN_DEV_IDP_URL",
    "REHAB_KVA_SYSTEM", "CAREPLAN_FHIR_PAGE_SIZE", "FHIR_TOKEN_EXPIRE_SECONDS",
]  # fmt: skip

SHOW = """
import json, django
django.setup()
from django.conf import settings as s
names = {names!r}
print(json.dumps({{n: getattr(s, n, None) for n in names}}, default=str))
"""


# Not from this test process: the e2e suite allows async-unsafe ORM calls in its own
# process, and ``check --deploy`` rightly refuses that setting.
NOT_INHERITED = {*READ, "DJANGO_ALLOW_ASYNC_UNSAFE"}
CACHE_DIR = tempfile.mkdtemp(prefix="careplan-settings-test-")


def clean_env(**env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    clean.update({"DJANGO_SETTINGS_MODULE": "careplan.settings", "CACHE_DIR": CACHE_DIR}, **env)
    return clean


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = clean_env(**env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_in(names: list[str], **env: str) -> dict:
    result = run_python(SHOW.format(names=names), **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


MFA_KEY = "A" * 43 + "="  # a valid Fernet key (32 zero bytes), for the checks only


def production(**overrides: str) -> dict[str, str]:
    env = {
        "CAREPLAN_ENV": "production",
        "SECRET_KEY": GOOD_KEY,
        "ALLOWED_HOSTS": "careplan.example.org",
        "DATABASE_URL": "sqlite:///:memory:",
        "CAREPLAN_MFA_KEYS": MFA_KEY,
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


SETUP = "import django; django.setup()"


def test_production_without_secret_key_fails_loudly():
    env = production()
    del env["SECRET_KEY"]
    result = run_python(SETUP, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_with_a_short_secret_key_fails_loudly():
    result = run_python(SETUP, **production(SECRET_KEY="too-short"))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "50 characters" in result.stderr


def test_production_without_allowed_hosts_fails_loudly():
    env = production()
    del env["ALLOWED_HOSTS"]
    result = run_python(SETUP, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "ALLOWED_HOSTS" in result.stderr


def test_production_refuses_debug():
    result = run_python(SETUP, **production(DEBUG="1"))
    assert result.returncode != 0
    assert "DEBUG must be off in production" in result.stderr


def test_production_refuses_the_test_idp():
    result = run_python(SETUP, **production(CAREPLAN_DEV_IDP_URL="http://127.0.0.1:8001"))
    assert result.returncode != 0
    assert "CAREPLAN_DEV_IDP_URL" in result.stderr


def test_development_with_the_test_idp_has_its_two_providers():
    shown = settings_in(["SOCIALACCOUNT_PROVIDERS"], CAREPLAN_DEV_IDP_URL="http://127.0.0.1:8001")
    apps = shown["SOCIALACCOUNT_PROVIDERS"]["eid"]["APPS"]
    assert [(a["provider_id"], a["name"]) for a in apps] == [
        ("bankid-test", "BankID (test)"),
        ("siths-test", "SITHS (test)"),
    ]


def test_a_malformed_password_login_roles_list_fails_loudly():
    result = run_python(SETUP, CAREPLAN_PASSWORD_LOGIN_ROLES="patients")
    assert result.returncode != 0
    assert "CAREPLAN_PASSWORD_LOGIN_ROLES" in result.stderr


def test_an_unknown_environment_name_fails_loudly():
    result = run_python(SETUP, CAREPLAN_ENV="staging")
    assert result.returncode != 0
    assert "CAREPLAN_ENV must be" in result.stderr


def test_a_malformed_number_fails_loudly():
    result = run_python(SETUP, SESSION_IDLE_SECONDS="half an hour")
    assert result.returncode != 0
    assert "ValueError" in result.stderr or "ImproperlyConfigured" in result.stderr


def test_production_turns_on_https_hsts_and_secure_cookies():
    values = settings_in(
        [
            "DEBUG",
            "SECURE_SSL_REDIRECT",
            "SECURE_PROXY_SSL_HEADER",
            "SECURE_HSTS_SECONDS",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "STORAGES",
        ],
        **production(),
    )
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert "CompressedManifest" in values["STORAGES"]["staticfiles"]["BACKEND"]


def test_production_settings_pass_check_deploy():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean_env(**production()),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_development_defaults_run_tasks_eagerly_on_a_file_cache_and_sqlite():
    values = settings_in(
        ["DEBUG", "CELERY_TASK_ALWAYS_EAGER", "CELERY_BROKER_URL", "CACHES", "DATABASES"]
    )
    assert values["DEBUG"] is False
    assert values["CELERY_TASK_ALWAYS_EAGER"] is True
    assert values["CACHES"]["default"]["BACKEND"].endswith("FileBasedCache")
    assert values["DATABASES"]["default"]["ENGINE"].endswith("sqlite3")


def test_redis_url_gives_the_broker_and_a_shared_cache():
    values = settings_in(
        ["CELERY_TASK_ALWAYS_EAGER", "CELERY_BROKER_URL", "CACHES"],
        REDIS_URL="redis://127.0.0.1:6379/3",
    )
    assert values["CELERY_TASK_ALWAYS_EAGER"] is False
    assert values["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/3"
    assert values["CACHES"]["default"]["BACKEND"].endswith("RedisCache")
    assert values["CACHES"]["default"]["LOCATION"] == "redis://127.0.0.1:6379/3"


def test_database_url_and_session_idle_seconds_are_read():
    values = settings_in(
        ["DATABASES", "SESSION_COOKIE_AGE", "CAREPLAN_SESSION_IDLE_SECONDS"],
        DATABASE_URL="postgres://careplan:pw@db.example.org:5433/careplan",
        SESSION_IDLE_SECONDS="600",
    )
    db = values["DATABASES"]["default"]
    assert db["ENGINE"].endswith("postgresql")
    assert (db["HOST"], db["PORT"], db["NAME"]) == ("db.example.org", 5433, "careplan")
    assert db["CONN_HEALTH_CHECKS"] is True
    assert values["SESSION_COOKIE_AGE"] == values["CAREPLAN_SESSION_IDLE_SECONDS"] == 600


def test_prepared_statements_are_on_unless_turned_off():
    assert settings_in(["CAREPLAN_PREPARED_STATEMENTS"])["CAREPLAN_PREPARED_STATEMENTS"] is True
    off = settings_in(["CAREPLAN_PREPARED_STATEMENTS"], DATABASE_PREPARED_STATEMENTS="0")
    assert off["CAREPLAN_PREPARED_STATEMENTS"] is False


def test_the_e_mail_settings_come_from_email_url():
    values = settings_in(
        ["EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS", "DEFAULT_FROM_EMAIL"],
        EMAIL_URL="smtp+tls://user:secret@smtp.example.org:587",
        DEFAULT_FROM_EMAIL="careplan <noreply@example.org>",
    )
    assert values["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
    assert (values["EMAIL_HOST"], values["EMAIL_PORT"]) == ("smtp.example.org", 587)
    assert values["EMAIL_USE_TLS"] is True
    assert values["DEFAULT_FROM_EMAIL"] == "careplan <noreply@example.org>"


@pytest.mark.parametrize("name", READ)
def test_every_variable_settings_reads_is_documented_in_the_readme(name):
    assert f"`{name}`" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_documents_only_variables_settings_reads():
    import re

    source = (ROOT / "careplan" / "settings.py").read_text(encoding="utf-8")
    read_in_source = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', source))
    assert read_in_source == set(READ), (
        "settings.py reads a new variable: add it to READ here and to the table in README.md"
    )


def test_a_replica_url_adds_the_replica_database_mirrored_in_tests():
    values = settings_in(
        ["DATABASES", "DATABASE_ROUTERS"],
        DATABASE_URL="postgres://app@db.example.org:5432/careplan",
        DATABASE_REPLICA_URL="postgres://app@replica.example.org:5432/careplan",
    )
    replica = values["DATABASES"]["replica"]
    assert replica["HOST"] == "replica.example.org"
    assert replica["TEST"]["MIRROR"] == "default"
    assert values["DATABASE_ROUTERS"] == ["careplan.replica.ReplicaRouter"]
    without = settings_in(["DATABASES"], DATABASE_URL="postgres://app@db.example.org/careplan")
    assert "replica" not in without["DATABASES"]
