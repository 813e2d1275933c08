from django.contrib.auth.management import create_permissions
from django.db import migrations

from sitecontent.roles import sync_role_groups

_WRITE = ("add", "change", "view")
_CONTENT = ("article", "page", "image", "document", "category", "tag")
_REDIRECTS = [f"redirects.{action}_redirect" for action in ("add", "change", "view", "delete")]
ROLES = {
    "Editors": [
        *(f"{action}_{model}" for model in _CONTENT for action in _WRITE),
        "view_upload",
        *_REDIRECTS,
    ],
    "Publishers": [
        *(f"{action}_{model}" for model in _CONTENT for action in (*_WRITE, "delete")),
        "view_upload",
        "publish_article",
        "publish_page",
        *_REDIRECTS,
        "cms.view_taskrun",
        "cms.retry_taskrun",
        "cms.view_cdnpurge",
    ],
}


def update_role_groups(apps, schema_editor):
    for label in ("sitecontent", "cms", "redirects"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_role_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), ROLES)


class Migration(migrations.Migration):
    dependencies = [
        ("sitecontent", "0006_revisions"),
        ("cms", "0002_task_retry"),
        ("redirects", "0002_alter_redirect_new_path_help_text"),
    ]

    operations = [migrations.RunPython(update_role_groups, migrations.RunPython.noop)]
