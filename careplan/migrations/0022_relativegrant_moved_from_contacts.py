"""``RelativeGrant`` moves from ``contacts`` to ``careplan`` (next to the access check).

State only: the table stays ``contacts_relativegrant`` with its rows, ids, constraint and
indexes; no SQL runs. The content type is renamed, so permissions and the admin's history
follow the model (a no-op on a new database). ``contacts`` 0004 drops the model from its
state after this one."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _rename_content_type(apps, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label=new, model="relativegrant").exists():
        ContentType.objects.filter(app_label=old, model="relativegrant").update(app_label=new)


def move_content_type(apps, schema_editor):
    _rename_content_type(apps, "contacts", "careplan")


def move_content_type_back(apps, schema_editor):
    _rename_content_type(apps, "careplan", "contacts")


class Migration(migrations.Migration):

    dependencies = [
        ('careplan', '0021_visit_questions'),
        ('contacts', '0003_handovers'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='RelativeGrant',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('scopes', models.JSONField(default=list, verbose_name='shared parts')),
                        ('valid_until', models.DateField(blank=True, null=True, verbose_name='until')),
                        ('revoked_at', models.DateTimeField(blank=True, null=True, verbose_name='revoked')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('last_seen_at', models.DateTimeField(blank=True, null=True, verbose_name='last looked')),
                        ('patient', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='relative_grants', to='careplan.patient', verbose_name='patient')),
                        ('relative', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='relative_grants', to=settings.AUTH_USER_MODEL, verbose_name='relative')),
                    ],
                    options={
                        'verbose_name': "relative's access",
                        'verbose_name_plural': "relatives' access",
                        'db_table': 'contacts_relativegrant',
                        'constraints': [models.UniqueConstraint(condition=models.Q(('revoked_at__isnull', True)), fields=('patient', 'relative'), name='relativegrant_one_open_per_pair')],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
