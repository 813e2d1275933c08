"""Focal points: the crops (sitecontent.media.rendering.CROPS) are cut around the point an
editor chose, a moved point cuts them again under new names, and link previews use them."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from PIL import Image as PILImage

from sitecontent.media import rendering, services
from sitecontent.media.renditions import image_sources
from sitecontent.models import Image
from sitecontent.public.templating import share_image_url
from tests.factories import ImageFactory, publisher

pytestmark = pytest.mark.django_db

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def marked_png() -> bytes:
    """2400 x 630, white, with a red square near the left edge and a blue one near the
    right: a 1200 x 630 crop (the full height) can hold one of them, never both."""
    picture = PILImage.new("RGB", (2400, 630), WHITE)
    picture.paste(RED, (150, 265, 250, 365))
    picture.paste(BLUE, (2150, 265, 2250, 365))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def crop_pixels(image):
    with storages["renditions"].open(image.crops["share"]["name"], "rb") as stored:
        return PILImage.open(io.BytesIO(stored.read())).convert("RGB")


def colours_in(picture) -> set:
    return {colour for _count, colour in picture.getcolors(maxcolors=2**16) if _count > 100}


def marked_image(**fields):
    return ImageFactory(file=ContentFile(marked_png(), name="marked.png"), **fields)


class TestCropBox:
    @pytest.mark.parametrize(
        ("focal", "box"),
        [
            ((0.5, 0.5), (600, 0, 1800, 630)),  # the centre
            ((0.0, 0.5), (0, 0, 1200, 630)),  # stops at the left edge
            ((0.1, 0.5), (0, 0, 1200, 630)),
            ((0.9, 0.5), (1200, 0, 2400, 630)),  # and at the right
            ((0.7, 0.5), (1080, 0, 2280, 630)),  # centred on 1680
        ],
    )  # fmt: skip
    def test_box_is_centred_on_the_point_as_far_as_the_edges_allow(self, focal, box):
        assert rendering.crop_box(2400, 630, (1200, 630), focal) == box

    def test_a_tall_image_is_cut_across(self):
        box = rendering.crop_box(1000, 3000, (1200, 630), (0.5, 0.0))
        assert box == (0, 0, 1000, 525)


class TestCrops:
    def test_crop_keeps_the_part_at_the_focal_point(self):
        left = marked_image(focal_x=0.1, focal_y=0.5)
        right = marked_image(focal_x=0.9, focal_y=0.5)
        left_cut, right_cut = crop_pixels(left), crop_pixels(right)
        assert left_cut.size == right_cut.size == (1200, 630)
        assert RED in colours_in(left_cut)
        assert BLUE not in colours_in(left_cut)
        assert BLUE in colours_in(right_cut)
        assert RED not in colours_in(right_cut)
        # Each marker sits where the box puts it: red at 150-250, blue at 2150-2250 - 1200.
        assert left_cut.getpixel((200, 315)) == pytest.approx(RED, abs=8)
        assert right_cut.getpixel((1200 - 200, 315)) == pytest.approx(BLUE, abs=8)

    def test_without_a_focal_point_the_crop_is_the_centre(self):
        image = marked_image()
        assert image.crops["share"]["box"] == [600, 0, 1800, 630]
        assert colours_in(crop_pixels(image)) == {WHITE}

    def test_link_previews_use_the_crop_and_bodies_the_whole_image(self):
        image = marked_image(focal_x=0.1)
        assert share_image_url(image).endswith(image.crops["share"]["name"])
        assert "/share-" not in image_sources(image).share  # what the editor inserts

    def test_moving_the_point_cuts_again_under_a_new_name(self, django_capture_on_commit_callbacks):
        image = marked_image(focal_x=0.1, focal_y=0.5)
        before = image.crops["share"]["name"]
        renditions_before = image.renditions
        image.focal_x = 0.9
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            services.media_save(item=image, user=publisher())
        image.refresh_from_db()
        after = image.crops["share"]["name"]
        assert after != before
        assert after.endswith("-900-500.png")
        assert BLUE in colours_in(crop_pixels(image))
        assert image.renditions == renditions_before  # the sizes are left as they were
        store = storages["renditions"]
        assert store.exists(after)
        assert not store.exists(before)
        assert any("image_id" in getattr(c, "keywords", {}) for c in callbacks)

    def test_pages_showing_it_are_purged_once_the_new_crop_exists(
        self, django_capture_on_commit_callbacks
    ):
        from cms import cdn
        from tests.factories import ArticleFactory

        image = marked_image(focal_x=0.1)
        ArticleFactory(hero_image=image)
        image.focal_x = 0.9
        with django_capture_on_commit_callbacks(execute=True):
            services.media_save(item=image, user=publisher())
        purged = [set(paths) for paths in cdn.get_backend().purges]
        # The task (inline here, so its purge joins the save's) purges after storing the
        # new crop: pages cached before then would still name the old one.
        assert len(purged) == 1
        assert "/articles/*" in purged[0]  # collapsed: its page among them

    def test_a_save_that_leaves_the_point_asks_for_nothing(
        self, django_capture_on_commit_callbacks
    ):
        image = marked_image(focal_x=0.1, focal_y=0.5)
        image.alt_text = "Two squares"
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.media_save(item=image, user=publisher())
        assert not [c for c in callbacks if "image_id" in getattr(c, "keywords", {})]

    def test_making_them_twice_is_harmless(self):
        image = marked_image(focal_x=0.1)
        assert rendering.image_renditions_create(image_id=image.pk) == "exists"

    def test_a_cut_for_a_point_since_moved_is_not_stored_on_the_image(self, monkeypatch):
        """The task read the old point; the editor moved it meanwhile: the row keeps
        what the newer request will make."""
        image = marked_image(focal_x=0.1)
        Image.objects.filter(pk=image.pk).update(focal_x=0.9, crops={})
        real = rendering.make_crops

        def racing(image_then, data, info):
            made = real(image_then, data, info)
            Image.objects.filter(pk=image.pk).update(focal_x=0.3)
            return made

        monkeypatch.setattr(rendering, "make_crops", racing)
        assert rendering.image_renditions_create(image_id=image.pk) == "stale"
        assert Image.objects.get(pk=image.pk).crops == {}

    def test_images_from_before_crops_get_them_from_the_minute_tick(
        self, django_capture_on_commit_callbacks
    ):
        from django.utils import timezone

        image = marked_image()
        Image.objects.filter(pk=image.pk).update(crops={}, renditions_requested_at=None)
        with django_capture_on_commit_callbacks(execute=True):
            assert services.image_renditions_retry_stale(now=timezone.now()) == [image.pk]
        image.refresh_from_db()
        assert set(image.crops) == {"share"}
        assert services.image_renditions_retry_stale(now=timezone.now()) == []
