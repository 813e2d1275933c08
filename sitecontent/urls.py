from django.urls import path

from . import views

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
    # Last: any other slug path may be a page (about/, about/team/…).
    path("<path:path>/", views.PageDetailView.as_view(), name="page_detail"),
]
