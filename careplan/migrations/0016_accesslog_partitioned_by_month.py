"""PostgreSQL: the access log becomes a table partitioned by month (careplan/partitions.py).

Same columns, constraints, indexes and rows; the primary key becomes (id, at) because
PostgreSQL requires the partition key in it (Django's state keeps ``id`` as the key: ids
still come from one sequence). SQLite keeps its plain table (nothing happens there). The
rows are copied in this migration's transaction: on a database that already holds many
millions of access-log rows, plan the downtime or copy month by month beforehand.
"""

from django.db import migrations

from careplan.partitions import partition_table, unpartition_table


class Migration(migrations.Migration):
    dependencies = [
        ("careplan", "0015_plan_document_and_plan_list_index"),
    ]

    operations = [
        migrations.RunPython(partition_table, unpartition_table, elidable=False),
    ]
