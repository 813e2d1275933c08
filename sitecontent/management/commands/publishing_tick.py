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

    def handle(self, *args, loop=False, interval=60, verbosity=1, **options):
        while True:
            try:
                outcome = tick.scheduled_publishing_tick()
            except Exception as error:
                if not loop:
                    raise
                # `make run` keeps this loop beside runserver: one failed tick (SQLite
                # busy while the server writes, say) must not end the ones after it;
                # the next tick covers the gap.
                self.stderr.write(f"Tick failed ({error!r}); trying again in {interval} s.")
            else:
                if verbosity > 0:
                    self._report(outcome)
            if not loop:
                return
            time.sleep(interval)

    def _report(self, outcome):
        if outcome.ran:
            self.stdout.write(
                f"Tick up to {outcome.window_end:%Y-%m-%d %H:%M:%S}: "
                f"{outcome.transitions} transition(s), paths {list(outcome.paths) or '-'}"
            )
        else:
            self.stdout.write("Another tick is running; skipped.")
