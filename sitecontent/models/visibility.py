"""Which rows the public site shows: media used by live articles and reachable pages.

The one home of that rule: the roles policy (media in live use is read-only to Editors),
the download view, the API's image list and the CDN paths all ask here. It sits with
the models because the policy, at the bottom of the layers, needs it.
"""

from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat, Left, Length, Reverse, StrIndex

from sitecontent.models.content import Article, Page
from sitecontent.models.media import Image


def public_images():
    """The images the public site shows: the hero of a live article, or in the body of
    a live article or reachable page, by its media-library id (``data-file="<pk>"``)
    or by its files' folder (``images/<uuid>/``, a pasted rendition address). The API
    lists these; ``image_is_public`` asks about one."""
    articles, pages = Article.objects.live(), Page.objects.reachable()
    by_id = Q(body__contains=Concat(Value('data-file="'), Cast(OuterRef("pk"), CharField()),
                                    Value('"')))  # fmt: skip
    # f"{Image.folder}/" in SQL: the file's name up to and with its last "/".
    name = OuterRef("file")
    folder = Left(name, Length(name) - StrIndex(Reverse(name), Value("/")) + 1)
    by_folder = Q(body__contains=folder)
    return Image.objects.filter(
        Q(Exists(articles.filter(Q(hero_image=OuterRef("pk")) | by_id)))
        | Q(Exists(pages.filter(by_id)))
        | (~Q(file="") & Q(Exists(articles.filter(by_folder)) | Exists(pages.filter(by_folder))))
    )


def image_is_public(image) -> bool:
    """Whether the public site shows ``image`` (one of ``public_images``)."""
    return image.pk is not None and public_images().filter(pk=image.pk).exists()


def document_address_prefix(pk) -> str:
    """``/documents/<pk>/``: what every download address of a document starts with, on
    the site (from the URLconf, without a stage's script prefix; not get_absolute_url(),
    which needs the row and its file name)."""
    from django.urls import get_script_prefix, reverse

    address = reverse("sitecontent:document_download", kwargs={"pk": pk, "filename": "-"})
    return "/" + address[len(get_script_prefix()) : -len("-")]


def document_is_public(document) -> bool:
    """Whether the public site shows ``document``: attached to a live article or a
    reachable page, or linked from one's body. Downloads follow this (a document
    attached only to drafts is not published by having a sequential id)."""
    shown = Q(attachments=document) | Q(body__contains=document_address_prefix(document.pk))
    return (
        Article.objects.live().filter(shown).exists()
        or Page.objects.reachable().filter(shown).exists()
    )
