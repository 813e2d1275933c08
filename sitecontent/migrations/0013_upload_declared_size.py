from django.db import migrations, models


class Migration(migrations.Migration):
    """Upload.max_size has held the declared size since uploads allow exactly that size;
    the name says so now."""

    dependencies = [("sitecontent", "0012_media_and_redirect_roles")]

    operations = [
        migrations.RenameField(model_name="upload", old_name="max_size", new_name="size"),
        migrations.AlterField(
            model_name="upload",
            name="size",
            field=models.PositiveBigIntegerField(
                help_text="Bytes declared when the upload was granted: the file must be exactly this."
            ),
        ),
    ]
