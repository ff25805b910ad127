"""Check that a (restored) database satisfies the invariants; exit 1 with a list if not.

    python manage.py check_consistency           # after a restore drill, or any time

Read only. See ``careplan.consistency`` for what is checked.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from careplan.consistency import consistency_problems


class Command(BaseCommand):
    help = "Check the database's invariants (after a restore); exits non-zero when broken."

    def handle(self, *args, **options) -> None:
        problems = consistency_problems()
        if problems:
            for problem in problems:
                self.stderr.write(f"- {problem}")
            raise CommandError(f"{len(problems)} consistency problem(s) found")
        self.stdout.write(self.style.SUCCESS("consistent: every invariant holds"))
