"""The content API's URLconf. Not included in cms.urls: cms.urls routes /api/ to
sitecontent.public.views.api, which loads this module (and Django REST framework) on the first
API request, so that page requests never pay for importing it on a cold start."""

from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from sitecontent.api import views as api

router = SimpleRouter()
router.register("articles", api.ArticleViewSet, basename="api-article")
router.register("pages", api.PageViewSet, basename="api-page")
router.register("pages", api.PageDetail, basename="api-page-detail")
router.register("categories", api.CategoryViewSet, basename="api-category")
router.register("tags", api.TagViewSet, basename="api-tag")
router.register("images", api.ImageViewSet, basename="api-image")

urlpatterns = [
    path("api/v1/", api.index, name="api-index"),
    path("api/v1/openapi.json", api.openapi_document, name="openapi"),
    path("api/v1/docs/", api.docs, name="api-docs"),
    path("api/v1/", include(router.urls)),
    re_path(r"^", api.not_found),  # any other address, newlines included: a JSON 404
]
