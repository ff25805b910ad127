"""Reads from a real PostgreSQL streaming replica (careplan/replica.py).

Starts a throwaway primary on a free port, migrates it, makes a replica with
``pg_basebackup -R`` on another port, and runs a Django process with
``DATABASE_URL`` = primary and ``DATABASE_REPLICA_URL`` = replica: a row written on the
primary streams over; reads inside ``reading_replica()`` (the unit report among them) go
to the replica, everything else and every write to the primary; the replica refuses
writes. Skips with the reason where the PostgreSQL server binaries are missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .pgcluster import Cluster, unavailable

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

CHECK = r"""
import datetime as dt, json
import django
django.setup()
from django.db import connections
from django.test.utils import CaptureQueriesContext
from careplan import replica
from careplan.models import CareUnit
from selfmonitor import reports

out = {}
with connections["replica"].cursor() as c:
    c.execute("SELECT pg_is_in_recovery(), current_setting('port')")
    out["replica_in_recovery"], out["replica_port"] = c.fetchone()
unit = CareUnit.objects.create(name="Replikaenheten", kind="specialist", hsa_id="REPLICA-1")
out["unit_pk"] = unit.pk
out["own_write_read_on_primary"] = CareUnit.objects.filter(pk=unit.pk).exists()
print("WAIT", flush=True)
input()  # the test waits for the replica to replay the write
today = dt.date.today()
with CaptureQueriesContext(connections["replica"]) as on_replica, CaptureQueriesContext(
    connections["default"]
) as on_primary:
    with replica.reading_replica():
        out["replica_sees_the_row"] = CareUnit.objects.filter(pk=unit.pk).exists()
        CareUnit.objects.filter(pk=unit.pk).update(name="Skrivs på primären")
    rows = reports.unit_report(unit_ids=[unit.pk], start=today - dt.timedelta(days=30), end=today)
    out["report_units"] = [r.unit.pk for r in rows]
    out["plain_read_rows"] = CareUnit.objects.filter(pk=unit.pk).count()
out["replica_sql"] = [q["sql"] for q in on_replica.captured_queries]
out["primary_sql"] = [q["sql"] for q in on_primary.captured_queries]
try:
    CareUnit.objects.using("replica").create(name="x", kind="specialist", hsa_id="REPLICA-2")
    out["replica_write"] = "accepted"
except Exception as exc:
    out["replica_write"] = str(exc).splitlines()[0]
print("RESULT " + json.dumps(out), flush=True)
"""


@pytest.fixture
def cluster():
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    # Not under pytest's tmp_path: as root the servers run as 'postgres', who must reach it.
    root = Path(tempfile.mkdtemp(prefix="careplan-pgcluster-"))
    c = Cluster(root)
    try:
        c.start()
        env = {**os.environ, "DATABASE_URL": c.url("primary"), "DEBUG": "1"}
        env.pop("DATABASE_REPLICA_URL", None)
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=300,
        )
        c.start_replica()
        yield c
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"{exc.cmd}: {exc.stderr or exc.output}")
    finally:
        c.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_reports_read_the_replica_and_everything_else_the_primary(cluster):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "careplan.settings",
        "DATABASE_URL": cluster.url("primary"),
        "DATABASE_REPLICA_URL": cluster.url("replica"),
        "DEBUG": "1",
    }
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", CHECK],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "WAIT", proc.stderr.read()
        cluster.wait_replayed()
        out, err = proc.communicate("\n", timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    result = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])

    assert result["replica_in_recovery"] is True
    assert int(result["replica_port"]) == cluster.replica_port
    assert result["own_write_read_on_primary"] is True
    # streamed over, and read there inside the block
    assert result["replica_sees_the_row"] is True
    replica_sql = " ".join(result["replica_sql"])
    primary_sql = " ".join(result["primary_sql"])
    assert '"careplan_careunit"' in replica_sql
    # the unit report (decorated with reading_replica) read the replica
    assert result["report_units"] == [result["unit_pk"]]  # the replica's copy of the unit
    assert "selfmonitor_assignment" in replica_sql or "selfmonitor_response" in replica_sql
    assert "selfmonitor_" not in primary_sql
    # the write inside the block, and the read outside it, went to the primary
    assert "UPDATE" in primary_sql and "UPDATE" not in replica_sql
    assert result["plain_read_rows"] == 1
    # the replica is read-only
    assert "read-only transaction" in result["replica_write"], result["replica_write"]
