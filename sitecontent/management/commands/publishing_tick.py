"""Run the scheduled-publishing tick: ``manage.py publishing_tick [--loop]``.

On Lambda a cron rule calls ``sitecontent.events.publishing_tick`` every minute; on a
laptop run this once, or with ``--loop`` to tick every minute until interrupted. Safe to
run alongside another tick. Settings used: the database, TASKS and CDN.
"""

import time

from django.core.management.base import BaseCommand

from sitecontent.publishing import tick


class Command(BaseCommand):
    help = "Handle go-live and expiry times that passed since the last tick."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Tick every --interval seconds.")
        parser.add_argument("--interval", type=int, default=60)

    def handle(self, *args, loop=False, interval=60, **options):
        while True:
            outcome = tick.scheduled_publishing_tick()
            if outcome.ran:
                self.stdout.write(
                    f"Tick up to {outcome.window_end:%Y-%m-%d %H:%M:%S}: "
                    f"{outcome.transitions} transition(s), paths {list(outcome.paths) or '-'}"
                )
            else:
                self.stdout.write("Another tick is running; skipped.")
            if not loop:
                return
            time.sleep(interval)
