from django.apps import AppConfig


class CmsConfig(AppConfig):
    """Platform glue: task runs, CDN purges, the Lambda task backend and AWS adapters."""

    name = "cms"
    verbose_name = "Platform"

    def ready(self):
        from . import cdn, coldstart, tasks

        # Fail at start, not at the first purge, when the CDN backend is misconfigured.
        cdn.get_backend()
        tasks.connect_run_recording()
        # Production settings paused the cyclic garbage collector for start-up; this
        # says when it comes back (in a command: now; else after the first request).
        coldstart.started()
