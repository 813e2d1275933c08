from django.urls import path
from django.utils.module_loading import import_string

from sitecontent.public import views

app_name = "sitecontent"


def _on_first_use(dotted_path):
    """The view at ``dotted_path``, imported by the first request for it: the feeds and
    the sitemap pull in Django's syndication and sitemap frameworks and an XML writer,
    which the cold start of an ordinary page does not need."""

    def view(request, *args, **kwargs):
        return import_string(dotted_path)(request, *args, **kwargs)

    return view


urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("articles/", views.ArticleListView.as_view(), name="article_list"),
    path("articles/<slug:slug>/", views.ArticleDetailView.as_view(), name="article_detail"),
    path("categories/<slug:slug>/", views.CategoryDetailView.as_view(), name="category_detail"),
    path("tags/<slug:slug>/", views.TagDetailView.as_view(), name="tag_detail"),
    path(
        "documents/<int:pk>/<str:filename>",
        views.document_download,
        name="document_download",
    ),
    path("preview/<str:token>/", views.preview, name="preview"),
    path(
        "preview/<str:token>/documents/<int:pk>/<str:filename>",
        views.preview_document,
        name="preview_document",
    ),
    path("search/", views.SearchView.as_view(), name="search"),
    path("feeds/rss/", _on_first_use("sitecontent.public.feeds.rss"), name="feed_rss"),
    path("feeds/atom/", _on_first_use("sitecontent.public.feeds.atom"), name="feed_atom"),
    path(
        "categories/<slug:slug>/rss/",
        _on_first_use("sitecontent.public.feeds.category_rss"),
        name="category_feed_rss",
    ),
    path(
        "categories/<slug:slug>/atom/",
        _on_first_use("sitecontent.public.feeds.category_atom"),
        name="category_feed_atom",
    ),
    path(
        "tags/<slug:slug>/rss/",
        _on_first_use("sitecontent.public.feeds.tag_rss"),
        name="tag_feed_rss",
    ),
    path(
        "tags/<slug:slug>/atom/",
        _on_first_use("sitecontent.public.feeds.tag_atom"),
        name="tag_feed_atom",
    ),
    path("sitemap.xml", _on_first_use("sitecontent.public.sitemaps.sitemap"), name="sitemap"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    # Last: any other slug path may be a page (about/, about/team/…).
    path("<path:path>/", views.PageDetailView.as_view(), name="page_detail"),
]
