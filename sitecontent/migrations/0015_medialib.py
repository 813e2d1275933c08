"""The media library's collections (every existing image and document goes to "General"),
focal points and crops; Publishers manage collections."""

import django.core.validators
import django.db.models.deletion
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

import sitecontent.models.fields
import sitecontent.models.media
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
        "publish_image",
        "publish_document",
        *_REDIRECTS,
        "redirects.redirect_offsite",
        "cms.view_taskrun",
        "cms.retry_taskrun",
        "cms.view_cdnpurge",
        "view_auditevent",
        *(f"{action}_collection" for action in (*_WRITE, "delete")),
    ],
}


def update_role_groups(apps, schema_editor):
    for label in ("sitecontent", "cms", "redirects"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    # As 0012 made it: a flushed database (tests) has lost it, and the groups need it.
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.get_or_create(
        codename="redirect_offsite",
        content_type=ContentType.objects.get_for_model(apps.get_model("redirects", "Redirect")),
        defaults={"name": "Can redirect visitors to other sites"},
    )
    sync_role_groups(apps.get_model("auth", "Group"), Permission, ROLES)


def media_to_general(apps, schema_editor):
    Collection = apps.get_model("sitecontent", "Collection")
    general, _ = Collection.objects.get_or_create(is_default=True, defaults={"name": "General"})
    for model in ("Image", "Document"):
        apps.get_model("sitecontent", model).objects.filter(collection=None).update(
            collection=general
        )


def _collection(kind, **options):
    return models.ForeignKey(
        help_text="The folder it is kept in; it decides who may see and change it.",
        on_delete=django.db.models.deletion.PROTECT,
        related_name=f"{kind}s",
        to="sitecontent.collection",
        **options,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("sitecontent", "0014_audit_log"),
    ]

    operations = [
        migrations.CreateModel(
            name="Collection",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", sitecontent.models.fields.PlainCharField(help_text="For example “Sport photos 2026”.", max_length=120)),
                ("is_default", models.BooleanField(default=False, editable=False, help_text="Where new media go when no collection is chosen.")),
                ("editor_groups", models.ManyToManyField(blank=True, help_text="Groups whose members may see, choose, add and change media here. Empty: everyone who may use the media library. Publishers may always.", related_name="media_collections", to="auth.group")),
                ("parent", models.ForeignKey(blank=True, help_text="Put this collection inside another one (a folder in a folder).", null=True, on_delete=django.db.models.deletion.PROTECT, related_name="children", to="sitecontent.collection")),
            ],
            options={"ordering": ["name"]},
        ),
        migrations.AddConstraint(
            model_name="collection",
            constraint=models.UniqueConstraint(condition=models.Q(("is_default", True)), fields=("is_default",), name="sitecontent_collection_one_default"),
        ),
        migrations.AddConstraint(
            model_name="collection",
            constraint=models.UniqueConstraint(fields=("parent", "name"), name="sitecontent_collection_unique_name_in_parent"),
        ),
        migrations.AddField(model_name="image", name="collection", field=_collection("image", null=True)),
        migrations.AddField(model_name="document", name="collection", field=_collection("document", null=True)),
        migrations.RunPython(media_to_general, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="image",
            name="collection",
            field=_collection("image", default=sitecontent.models.media.default_collection_id),
        ),
        migrations.AlterField(
            model_name="document",
            name="collection",
            field=_collection("document", default=sitecontent.models.media.default_collection_id),
        ),
        migrations.AddField(
            model_name="image",
            name="crops",
            field=models.JSONField(blank=True, default=dict, editable=False, help_text="Copies cut to a shape around the focal point: {crop: {name, width, …}}"),
        ),
        migrations.AddField(
            model_name="image",
            name="focal_x",
            field=models.FloatField(blank=True, help_text="0 is the left edge, 1 the right. Empty: the centre.", null=True, validators=[django.core.validators.MinValueValidator(0.0), django.core.validators.MaxValueValidator(1.0)], verbose_name="focal point x"),
        ),
        migrations.AddField(
            model_name="image",
            name="focal_y",
            field=models.FloatField(blank=True, help_text="0 is the top edge, 1 the bottom. Empty: the centre.", null=True, validators=[django.core.validators.MinValueValidator(0.0), django.core.validators.MaxValueValidator(1.0)], verbose_name="focal point y"),
        ),
        migrations.RunPython(update_role_groups, migrations.RunPython.noop),
    ]
