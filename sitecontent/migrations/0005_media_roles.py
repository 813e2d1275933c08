from django.contrib.auth.management import create_permissions
from django.db import migrations

from sitecontent.roles import sync_role_groups

_WRITE = ("add", "change", "view")
_CONTENT = ("article", "page", "image", "document", "category", "tag")
ROLES = {
    "Editors": [*(f"{action}_{model}" for model in _CONTENT for action in _WRITE), "view_upload"],
    "Publishers": [
        *(f"{action}_{model}" for model in _CONTENT for action in (*_WRITE, "delete")),
        "view_upload",
        "publish_article",
        "publish_page",
    ],
}


def update_role_groups(apps, schema_editor):
    app_config = apps.get_app_config("sitecontent")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    sync_role_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), ROLES)


class Migration(migrations.Migration):
    dependencies = [("sitecontent", "0004_media_library")]

    operations = [migrations.RunPython(update_role_groups, migrations.RunPython.noop)]
