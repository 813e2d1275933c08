from django.contrib.sitemaps.views import sitemap
from django.urls import path

from . import feeds, views
from .sitemaps import SITEMAPS

app_name = "sitecontent"

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
    path("search/", views.SearchView.as_view(), name="search"),
    path("feeds/rss/", feeds.LatestArticles(), name="feed_rss"),
    path("feeds/atom/", feeds.LatestArticlesAtom(), name="feed_atom"),
    path("categories/<slug:slug>/rss/", feeds.CategoryArticles(), name="category_feed_rss"),
    path("categories/<slug:slug>/atom/", feeds.CategoryArticlesAtom(), name="category_feed_atom"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    # Last: any other slug path may be a page (about/, about/team/…).
    path("<path:path>/", views.PageDetailView.as_view(), name="page_detail"),
]
