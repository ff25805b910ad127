"""The restore drill of README "Backup and restore", run for real (issue 12): pg_dump the
test database, pg_restore it into a new database, run ``manage.py check_consistency``
against the copy as a separate process (exit 0), break an invariant in the copy the way
a data-only restore could (triggers off), and see the check fail with the list (exit 1).

Needs PostgreSQL and its client programs; skips elsewhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

from careplan.models import Outbox

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def _pg_env() -> tuple[dict, list[str]]:
    if connection.vendor != "postgresql":
        pytest.skip("the restore drill needs PostgreSQL")
    for program in ("pg_dump", "pg_restore", "createdb", "dropdb", "psql"):
        if shutil.which(program) is None:
            pytest.skip(f"{program} is not installed")
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    args = ["-h", db.get("HOST") or "localhost", "-p", str(db.get("PORT") or 5432)]
    args += ["-U", db.get("USER") or "postgres"]
    return env, args


def _check(database_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check_consistency"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "CAREPLAN_ENV": "development"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_dump_restore_and_check_the_copy(cast, tmp_path):
    Outbox.objects.create(task="careplan.tasks.notify_plan_changed", kwargs={}, dedupe_key="drill")
    env, args = _pg_env()
    source = connection.settings_dict["NAME"]
    copy = f"{source}_drill_{uuid.uuid4().hex[:8]}"
    dump = tmp_path / "careplan.dump"
    db = connection.settings_dict
    url = f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or 'localhost'}:"
    url += f"{db.get('PORT') or 5432}/{copy}"

    def run(*command: str) -> None:
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=120)

    run("pg_dump", *args, "--format=custom", "--file", str(dump), source)
    run("createdb", *args, copy)
    try:
        run("pg_restore", *args, "--no-owner", "--exit-on-error", "--dbname", copy, str(dump))
        ok = _check(url)
        assert ok.returncode == 0, ok.stderr
        assert "consistent" in ok.stdout

        # A data-only restore or a hand fix with triggers off: the patient loses the
        # contact nurse and the nurse leaves the unit.
        run(
            "psql", *args, "--dbname", copy, "-v", "ON_ERROR_STOP=1", "-c",
            "BEGIN; SET LOCAL session_replication_role = replica; "
            f"UPDATE careplan_contactnurseassignment SET ended_on = CURRENT_DATE "
            f"WHERE patient_id = {cast.patient.pk}; "
            f"DELETE FROM careplan_staffmembership WHERE user_id = {cast.other_nurse.pk}; "
            "COMMIT;",
        )  # fmt: skip
        broken = _check(url)
        assert broken.returncode == 1
        assert "contact_nurse: 1 patients with an established plan have no contact nurse" in (
            broken.stderr
        )
        assert f"ids {cast.patient.pk}" in broken.stderr
        assert "consistency problem(s) found" in broken.stderr
    finally:
        connection.close()
        subprocess.run(["dropdb", *args, "--if-exists", copy], env=env, timeout=60)
