"""Calendar dates the database can hold and read back.

A date typed as ``0001-01-01 00:00`` was stored (in Stockholm's offset of that time it is
a timestamp before year 1 in UTC) and then could not be read: every page, the API and
the admin answered 500 for the plan, and the entry could not be deleted. Before the new
check constraint, rows already out of range are repaired in SQL (never read into
Python): the entry is kept, dated to when it was added, its end cleared, and the note
says what was typed so the team or the patient can set the right date.
"""

import datetime

from django.db import migrations, models

FIRST = "1900-01-01 00:00:00+00"
END = "2200-01-01 00:00:00+00"


def repair(apps, schema_editor):
    table = "careplan_calendarevent"
    quote = schema_editor.quote_name
    out = (
        f"({quote('starts_at')} < %s OR {quote('starts_at')} >= %s OR "
        f"({quote('ends_at')} IS NOT NULL AND "
        f"({quote('ends_at')} < %s OR {quote('ends_at')} >= %s)))"
    )
    if schema_editor.connection.vendor == "postgresql":
        typed = (
            "to_char(starts_at AT TIME ZONE 'Europe/Stockholm', 'YYYY-MM-DD HH24:MI')"
        )
    else:
        typed = quote("starts_at")
    note = (
        f"{quote('note')} || CASE WHEN {quote('note')} = '' THEN '' ELSE ' ' END || "
        f"'[Datumet som skrevs in (' || {typed} || ') gick inte att använda: "
        "ange rätt datum.]'"
    )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(table)} SET {quote('note')} = {note}, "
            f"{quote('starts_at')} = {quote('created_at')}, {quote('ends_at')} = NULL "
            f"WHERE {out}",
            [FIRST, END, FIRST, END],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("careplan", "0009_contact_nurse_in_responsible_unit"),
    ]

    operations = [
        migrations.RunPython(repair, migrations.RunPython.noop, elidable=False),
        migrations.AddConstraint(
            model_name="calendarevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("starts_at__gte", datetime.datetime(1900, 1, 1, 0, 0, tzinfo=datetime.UTC)),
                    ("starts_at__lt", datetime.datetime(2200, 1, 1, 0, 0, tzinfo=datetime.UTC)),
                    models.Q(
                        ("ends_at__isnull", True),
                        models.Q(
                            (
                                "ends_at__gte",
                                datetime.datetime(1900, 1, 1, 0, 0, tzinfo=datetime.UTC),
                            ),
                            (
                                "ends_at__lt",
                                datetime.datetime(2200, 1, 1, 0, 0, tzinfo=datetime.UTC),
                            ),
                        ),
                        _connector="OR",
                    ),
                ),
                name="calendarevent_sensible_dates",
            ),
        ),
    ]
