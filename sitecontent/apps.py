from django.apps import AppConfig


class SiteContentConfig(AppConfig):
    name = "sitecontent"
    verbose_name = "Site content"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import signals, tick_gate  # noqa: F401 - tick_gate: its save receiver

        post_migrate.connect(signals.sync_site_address, sender=self)
