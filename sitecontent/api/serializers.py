"""The API's serializers: what each resource shows, and only what the public site shows."""

from rest_framework import serializers

from sitecontent.media.renditions import image_sources, rendition_url
from sitecontent.models import Article, Category, Image, Page, Tag
from sitecontent.public.templating import (
    absolute_url,  # links name SITE_URL, whatever host served
)


class RenditionSerializer(serializers.Serializer):
    url = serializers.SerializerMethodField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    format = serializers.CharField(help_text="WEBP, JPEG or PNG")

    def get_url(self, rendition) -> str:
        return absolute_url(rendition_url(rendition))


class ImageSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The original file.")
    renditions = RenditionSerializer(many=True, help_text="Resized copies, for srcset.")

    class Meta:
        model = Image
        fields = ["id", "title", "alt_text", "caption", "credit", "width", "height", "url",
                  "renditions"]  # fmt: skip

    def get_url(self, image) -> str:
        return absolute_url(image_sources(image).original)


class HtmlUrlMixin(serializers.Serializer):
    html_url = serializers.SerializerMethodField(help_text="The page on the public site.")

    def get_html_url(self, item) -> str:
        return absolute_url(item.get_absolute_url())


class CategorySerializer(HtmlUrlMixin, serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["slug", "name", "description", "html_url"]


class TagSerializer(HtmlUrlMixin, serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["slug", "name", "html_url"]


class AuthorSerializer(serializers.Serializer):
    name = serializers.CharField(source="public_name")
    bio = serializers.CharField()


class DocumentSerializer(HtmlUrlMixin, serializers.Serializer):
    title = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField(help_text="Bytes.")


class ArticleSerializer(HtmlUrlMixin, serializers.ModelSerializer):
    published_at = serializers.DateTimeField(source="publish_at")
    author = AuthorSerializer()
    category = CategorySerializer(allow_null=True)
    tags = TagSerializer(many=True)
    hero_image = ImageSerializer(allow_null=True)

    class Meta:
        model = Article
        fields = ["slug", "title", "summary", "published_at", "updated_at", "html_url",
                  "author", "category", "tags", "hero_image"]  # fmt: skip


class RichTextSerializerField(serializers.CharField):
    """Editor HTML through the same render path as the pages (sitecontent.richtext)."""

    def to_representation(self, value):
        from sitecontent.richtext import sanitize_html

        return sanitize_html(value)


class MetaTextMixin(serializers.Serializer):
    """The title and description search engines show, with the fallbacks the pages use
    (sitecontent.models.content.SeoFields), beside the editors' own SEO fields."""

    meta_title = serializers.CharField(
        read_only=True, help_text="The SEO title, or else the title."
    )
    meta_description = serializers.CharField(
        read_only=True,
        help_text="The SEO description, or else the summary (articles) or the start of "
        "the body's text (pages).",
    )


class ArticleDetailSerializer(MetaTextMixin, ArticleSerializer):
    body = RichTextSerializerField(help_text="Sanitized HTML.")
    attachments = DocumentSerializer(many=True)

    class Meta(ArticleSerializer.Meta):
        fields = [*ArticleSerializer.Meta.fields, "body", "attachments", "seo_title",
                  "seo_description", "meta_title", "meta_description"]  # fmt: skip


class PageSerializer(MetaTextMixin, HtmlUrlMixin, serializers.ModelSerializer):
    path = serializers.CharField(source="url_path", help_text='The slug path, e.g. "about/team".')
    parent = serializers.IntegerField(source="parent_id", allow_null=True)
    published_at = serializers.DateTimeField(source="publish_at")
    body = RichTextSerializerField(help_text="Sanitized HTML.")

    class Meta:
        model = Page
        fields = ["id", "title", "slug", "path", "parent", "menu_order", "show_in_menus",
                  "published_at", "updated_at", "html_url", "body", "seo_title",
                  "seo_description", "meta_title", "meta_description"]  # fmt: skip
