from django.contrib.auth.management import create_permissions
from django.db import migrations

from sitecontent.roles import sync_role_groups

_WRITE = ("add", "change", "view")
_CONTENT = ("article", "page", "image", "category", "tag")
ROLES = {
    "Editors": [f"{action}_{model}" for model in _CONTENT for action in _WRITE],
    "Publishers": [
        *(f"{action}_{model}" for model in _CONTENT for action in (*_WRITE, "delete")),
        "publish_article",
        "publish_page",
    ],
}


def create_role_groups(apps, schema_editor):
    # Permissions are normally created after all migrations have run (post_migrate);
    # make them now so the groups can hold them on a fresh database.
    app_config = apps.get_app_config("sitecontent")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    sync_role_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), ROLES)


def remove_role_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("sitecontent", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_role_groups, remove_role_groups)]
