"""Every article and page that has no revision gets one: its content as stored now,
applied, so the original can always be restored (content made before revisions, or by
code that skipped them). From now on content_save and revision_save_draft do the same
for an item saved without one (publishing.revisions.first_revision_ensure).

A migration cannot import the models' methods: the revision fields are a frozen copy of
Article.REVISION_FIELDS and Page.REVISION_FIELDS as they are at this migration, and the
snapshot is publishing.revisions.snapshot over the historical models. The revision is
dated when the item was last saved, so it sorts as the oldest; its author is unknown.
"""

from django.db import migrations
from django.utils import timezone

REVISION_FIELDS = {
    "article": (
        "title",
        "slug",
        "summary",
        "body",
        "hero_image",
        "author",
        "category",
        "tags",
        "attachments",
        "featured",
        "seo_title",
        "seo_description",
    ),
    "page": (
        "title",
        "slug",
        "parent",
        "body",
        "attachments",
        "show_in_menus",
        "menu_order",
        "seo_title",
        "seo_description",
    ),
}


def _snapshot(item, names) -> dict:
    data = {}
    for name in names:
        field = item._meta.get_field(name)
        if field.many_to_many:
            value = sorted(related.pk for related in getattr(item, name).all())
        else:
            value = getattr(item, field.attname)
            normalize = getattr(field, "normalize", None)
            if normalize is not None:
                value = normalize(value)
        data[name] = value
    return data


def add_first_revisions(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Revision = apps.get_model("sitecontent", "Revision")
    now = timezone.now()
    for model_name, names in REVISION_FIELDS.items():
        model = apps.get_model("sitecontent", model_name)
        if not model.objects.exists():
            continue
        content_type, _ = ContentType.objects.get_or_create(
            app_label="sitecontent", model=model_name
        )
        kept = set(
            Revision.objects.filter(content_type=content_type).values_list("object_id", flat=True)
        )
        missing = model.objects.exclude(pk__in=kept).prefetch_related(
            *(name for name in names if model._meta.get_field(name).many_to_many)
        )
        batch = []
        for item in missing.iterator(chunk_size=500):
            batch.append(
                Revision(
                    content_type=content_type,
                    object_id=item.pk,
                    data=_snapshot(item, names),
                    changed_fields=list(names),
                    applied_at=now,
                )
            )
            batch[-1]._updated_at = item.updated_at
        created = Revision.objects.bulk_create(batch, batch_size=500)
        for revision in created:
            revision.created_at = revision._updated_at
        Revision.objects.bulk_update(created, ["created_at"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("sitecontent", "0014_audit_log"),
    ]

    operations = [migrations.RunPython(add_first_revisions, migrations.RunPython.noop)]
