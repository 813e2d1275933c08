from django.apps import AppConfig
from django.contrib.admin.apps import SimpleAdminConfig

IMMEDIATE = "django.tasks.backends.immediate.ImmediateBackend"


class CmsConfig(AppConfig):
    """Platform glue: task runs, CDN purges, the Lambda task backend and AWS adapters."""

    name = "cms"
    # This module holds the admin's config too: this one is the app's.
    default = True
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


class AdminConfig(SimpleAdminConfig):
    """Django's admin without autodiscovery at start-up.

    Stock ``AdminConfig`` imports every app's admin module in ``django.setup()``, so
    each cold start of a public page paid for the editors' forms, widgets and services.
    The admin's URLconf (cms.urls, which public requests never load: cms.middleware)
    autodiscovers instead. System checks discover first, so `manage.py check` still
    checks every ModelAdmin.
    """

    def ready(self):
        from django.contrib.admin.checks import check_dependencies
        from django.core import checks

        checks.register(check_dependencies, checks.Tags.admin)
        checks.register(check_admin_app_discovered, checks.Tags.admin)


def check_admin_app_discovered(app_configs, **kwargs):
    from django.contrib.admin import autodiscover
    from django.contrib.admin.checks import check_admin_app

    autodiscover()
    return check_admin_app(app_configs, **kwargs)
