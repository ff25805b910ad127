"""The replica router without a replica (the real one: tests/integration/test_replica.py):
reads go to the replica only inside ``reading_replica()`` and only when one is
configured; writes and migrations never."""

from __future__ import annotations

from careplan import replica
from careplan.models import CareUnit


def test_reads_use_the_replica_only_inside_the_block_and_only_when_configured(monkeypatch):
    router = replica.ReplicaRouter()
    monkeypatch.setattr(replica, "configured", lambda: True)
    assert router.db_for_read(CareUnit) == "default"
    with replica.reading_replica():
        assert router.db_for_read(CareUnit) == "replica"
        assert router.db_for_write(CareUnit) == "default"
    assert router.db_for_read(CareUnit) == "default"

    @replica.reading_replica()
    def report():
        return router.db_for_read(CareUnit)

    assert report() == "replica"
    monkeypatch.setattr(replica, "configured", lambda: False)
    with replica.reading_replica():
        assert router.db_for_read(CareUnit) == "default"


def test_the_replica_is_never_migrated():
    router = replica.ReplicaRouter()
    assert router.allow_migrate("replica", "careplan") is False
    assert router.allow_migrate("default", "careplan") is True
