"""The access log's monthly partitions (PostgreSQL): create ahead, drop what is too old.

Celery beat runs the same job daily (``careplan.tasks.accesslog_partitions``); run this
by hand after a long beat outage, or to see the partitions:

    python manage.py accesslog_partitions            # create ahead, drop expired
    python manage.py accesslog_partitions --list     # only list them
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from careplan import partitions


class Command(BaseCommand):
    help = "Create the access log's monthly partitions ahead and drop those past retention."

    def add_arguments(self, parser):
        parser.add_argument("--list", action="store_true", help="Only list the partitions")
        parser.add_argument(
            "--months-ahead", type=int, default=settings.CAREPLAN_ACCESS_LOG_MONTHS_AHEAD
        )
        parser.add_argument(
            "--keep-years", type=int, default=settings.CAREPLAN_ACCESS_LOG_KEEP_YEARS
        )

    def handle(self, *args, **options):
        if not partitions.is_partitioned():
            self.stdout.write("The access log is a plain table here (not PostgreSQL).")
            return
        if not options["list"]:
            for name in partitions.ensure(months_ahead=options["months_ahead"]):
                self.stdout.write(f"created {name}")
            for name in partitions.drop_expired(keep_years=options["keep_years"]):
                self.stdout.write(f"dropped {name}")
        for name in partitions.partitions():
            self.stdout.write(name)
