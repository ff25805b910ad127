"""``RelativeGrant`` now belongs to ``careplan`` (``careplan`` 0022): the invitation's
grant points there and the model leaves this app's state. State only, no SQL: the table
``contacts_relativegrant`` and its rows stay."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('careplan', '0022_relativegrant_moved_from_contacts'),
        ('contacts', '0003_handovers'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='invitation',
                    name='grant',
                    field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='invitation', to='careplan.relativegrant', verbose_name='access'),
                ),
                migrations.DeleteModel(
                    name='RelativeGrant',
                ),
            ],
        ),
    ]
