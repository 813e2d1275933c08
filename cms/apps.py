from django.apps import AppConfig

IMMEDIATE = "django.tasks.backends.immediate.ImmediateBackend"


class CmsConfig(AppConfig):
    """Platform glue: task runs, CDN purges, the Lambda task backend and AWS adapters."""

    name = "cms"
    verbose_name = "Platform"

    def ready(self):
        from django.conf import settings

        from . import cdn, coldstart

        # Fail at start, not at the first purge, when the CDN backend is misconfigured.
        cdn.get_backend()
        # Django's inline backend (laptops, tests) reports runs by signals; ours records
        # them itself, so production start-up need not import django.tasks at all.
        if any(config["BACKEND"] == IMMEDIATE for config in settings.TASKS.values()):
            from cms import task_runs

            task_runs.connect_run_recording()
        # Production settings paused the cyclic garbage collector for start-up; this
        # says when it comes back (in a command: now; else after the first request).
        coldstart.started()
