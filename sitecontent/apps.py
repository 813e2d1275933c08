from django.apps import AppConfig


class SiteContentConfig(AppConfig):
    name = "sitecontent"
    verbose_name = "Site content"

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)
