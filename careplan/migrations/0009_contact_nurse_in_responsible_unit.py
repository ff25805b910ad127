"""Invariant 1, completed: the named contact nurse works in the responsible unit.

Migration 0002 checks at COMMIT that a patient with an active plan has a responsible unit
and a named contact nurse. A handover accepted while the sending unit named a new
contact nurse could still commit with the old unit's nurse in charge of a patient the
new unit is responsible for. The same deferred check now also demands that the active
contact nurse has a staff membership of the unit responsible now, and it runs whenever a
relation or an assignment starts or changes, not only when one ends.

(A nurse's membership ending is left to the services: refusing it here would turn an
admin edit of a unit's staff into an error at commit.)
"""

from django.db import migrations

FUNCTION = """
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
    IF NOT EXISTS (
        SELECT 1
        FROM careplan_contactnurseassignment a
        JOIN careplan_carerelation r
            ON r.patient_id = a.patient_id AND r.ended_at IS NULL
        JOIN careplan_staffmembership m
            ON m.user_id = a.nurse_id AND m.unit_id = r.unit_id
        WHERE a.patient_id = p_patient_id AND a.ended_on IS NULL
    ) THEN
        RAISE EXCEPTION
            'patient % has a contact nurse who does not work in the responsible unit',
            p_patient_id
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'careplan_contact_nurse_in_responsible_unit';
    END IF;
END;
$$;
"""

# A relation or assignment that starts, or is moved: its patient is checked at commit.
# (careplan_careplan_responsibility_check checks NEW.patient_id; 0002 made it.)
TRIGGERS = """
CREATE CONSTRAINT TRIGGER careplan_carerelation_responsibility_start
    AFTER INSERT OR UPDATE OF unit_id ON careplan_carerelation
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (NEW.ended_at IS NULL)
    EXECUTE FUNCTION careplan_careplan_responsibility_check();

CREATE CONSTRAINT TRIGGER careplan_contactnurse_responsibility_start
    AFTER INSERT OR UPDATE OF nurse_id, unit_id ON careplan_contactnurseassignment
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (NEW.ended_on IS NULL)
    EXECUTE FUNCTION careplan_careplan_responsibility_check();
"""

DROP = """
DROP TRIGGER IF EXISTS careplan_carerelation_responsibility_start ON careplan_carerelation;
DROP TRIGGER IF EXISTS careplan_contactnurse_responsibility_start
    ON careplan_contactnurseassignment;
"""


def _run(schema_editor, sql: str) -> None:
    # No parameters: the "%" in RAISE messages must reach PostgreSQL as written.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _run(schema_editor, FUNCTION)
    _run(schema_editor, TRIGGERS)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _run(schema_editor, DROP)
    module = __import__(
        "careplan.migrations.0002_invariant_triggers", fromlist=["FUNCTIONS"]
    )
    _run(schema_editor, module.FUNCTIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("careplan", "0008_plan_and_section_version"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
