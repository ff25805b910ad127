"""Load the KVÅ codes shipped in rehab/data/kva-seed.csv (with their sources).

Only those codes: the full classification is imported with ``manage.py import_kva``.
"""

from django.db import migrations


def load_seed(apps, schema_editor):
    from rehab import kva

    KvaCode = apps.get_model("rehab", "KvaCode")
    rows = kva.parse(kva.SEED_FILE.read_bytes())
    kva.import_rows(rows, model=KvaCode)


class Migration(migrations.Migration):
    dependencies = [("rehab", "0001_initial")]

    operations = [migrations.RunPython(load_seed, migrations.RunPython.noop)]
