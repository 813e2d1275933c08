from django.apps import AppConfig


class SiteContentConfig(AppConfig):
    name = "sitecontent"
    verbose_name = "Site content"

    def ready(self):
        from django.db.models.signals import post_migrate

        # Each area's receivers connect when their module is imported.
        from sitecontent.caching import receivers as caching_receivers  # noqa: F401
        from sitecontent.media import receivers as media_receivers  # noqa: F401
        from sitecontent.public import receivers as public_receivers
        from sitecontent.publishing import receivers as publishing_receivers  # noqa: F401

        post_migrate.connect(public_receivers.sync_site_address, sender=self)

        from axes.signals import user_locked_out

        from sitecontent.models.audit import record_lockout

        user_locked_out.connect(
            record_lockout, sender="axes", dispatch_uid="sitecontent-audit-lockout"
        )
