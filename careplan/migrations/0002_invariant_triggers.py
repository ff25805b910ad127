"""Invariant 1 in the database: a patient with an established (active) care plan has one
responsible care unit and one named contact nurse at any time.

The partial unique indexes from 0001 give "at most one". These PostgreSQL constraint
triggers give "at least one": DEFERRABLE INITIALLY DEFERRED, so they look at the state
at COMMIT, after every statement of the transaction. A handover therefore ends the old
relation (or assignment) and creates the new one in one transaction; a transaction that
leaves an active plan without either is refused with a check_violation (SQLSTATE 23514),
which Django raises as ``IntegrityError``.

Other database vendors (SQLite in development) get nothing here; the services keep the
invariant there.
"""

from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION careplan_assert_patient_responsibility(p_patient_id bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_patient_id IS NULL THEN
        RETURN;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM careplan_careplan
        WHERE patient_id = p_patient_id AND status = 'active'
    ) THEN
        RETURN;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM careplan_carerelation
        WHERE patient_id = p_patient_id AND ended_at IS NULL
    ) THEN
        RAISE EXCEPTION
            'patient % has an active care plan but no responsible care unit', p_patient_id
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'careplan_active_plan_has_responsible_unit';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM careplan_contactnurseassignment
        WHERE patient_id = p_patient_id AND ended_on IS NULL
    ) THEN
        RAISE EXCEPTION
            'patient % has an active care plan but no named contact nurse', p_patient_id
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'careplan_active_plan_has_contact_nurse';
    END IF;
END;
$$;

-- A plan row inserted or changed: its patient must be covered at commit.
CREATE OR REPLACE FUNCTION careplan_careplan_responsibility_check()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM careplan_assert_patient_responsibility(NEW.patient_id);
    RETURN NULL;
END;
$$;

-- A relation or assignment ended, moved or deleted: its patient must still be covered.
CREATE OR REPLACE FUNCTION careplan_responsibility_row_check()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM careplan_assert_patient_responsibility(OLD.patient_id);
    RETURN NULL;
END;
$$;
"""

TRIGGERS = """
CREATE CONSTRAINT TRIGGER careplan_careplan_responsibility
    AFTER INSERT OR UPDATE OF status, patient_id ON careplan_careplan
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (NEW.status = 'active')
    EXECUTE FUNCTION careplan_careplan_responsibility_check();

CREATE CONSTRAINT TRIGGER careplan_carerelation_responsibility_end
    AFTER UPDATE OF ended_at, patient_id ON careplan_carerelation
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (OLD.ended_at IS NULL)
    EXECUTE FUNCTION careplan_responsibility_row_check();

CREATE CONSTRAINT TRIGGER careplan_carerelation_responsibility_delete
    AFTER DELETE ON careplan_carerelation
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (OLD.ended_at IS NULL)
    EXECUTE FUNCTION careplan_responsibility_row_check();

CREATE CONSTRAINT TRIGGER careplan_contactnurse_responsibility_end
    AFTER UPDATE OF ended_on, patient_id ON careplan_contactnurseassignment
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (OLD.ended_on IS NULL)
    EXECUTE FUNCTION careplan_responsibility_row_check();

CREATE CONSTRAINT TRIGGER careplan_contactnurse_responsibility_delete
    AFTER DELETE ON careplan_contactnurseassignment
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (OLD.ended_on IS NULL)
    EXECUTE FUNCTION careplan_responsibility_row_check();
"""

DROP = """
DROP TRIGGER IF EXISTS careplan_careplan_responsibility ON careplan_careplan;
DROP TRIGGER IF EXISTS careplan_carerelation_responsibility_end ON careplan_carerelation;
DROP TRIGGER IF EXISTS careplan_carerelation_responsibility_delete ON careplan_carerelation;
DROP TRIGGER IF EXISTS careplan_contactnurse_responsibility_end
    ON careplan_contactnurseassignment;
DROP TRIGGER IF EXISTS careplan_contactnurse_responsibility_delete
    ON careplan_contactnurseassignment;
DROP FUNCTION IF EXISTS careplan_careplan_responsibility_check();
DROP FUNCTION IF EXISTS careplan_responsibility_row_check();
DROP FUNCTION IF EXISTS careplan_assert_patient_responsibility(bigint);
"""


def _run(schema_editor, sql: str) -> None:
    # No parameters: the "%" in RAISE messages must reach PostgreSQL as written.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql)


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _run(schema_editor, FUNCTIONS)
    _run(schema_editor, TRIGGERS)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _run(schema_editor, DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("careplan", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
