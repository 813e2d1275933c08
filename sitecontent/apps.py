from django.apps import AppConfig


class SiteContentConfig(AppConfig):
    name = "sitecontent"
    verbose_name = "Site content"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import signals

        post_migrate.connect(signals.sync_site_address, sender=self)

        # The last installed app: start-up is over (production settings paused the
        # cyclic garbage collector for it; cms.coldstart says when it comes back).
        from cms import coldstart

        coldstart.started()
