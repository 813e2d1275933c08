"""A URLconf where articles live elsewhere (tests/sitecontent/models/test_addresses.py)."""

from django.urls import include, path

from sitecontent.public import views

moved = (
    [path("moved/<slug:slug>/", views.ArticleDetailView.as_view(), name="article_detail")],
    "sitecontent",
)
urlpatterns = [path("", include(moved))]
