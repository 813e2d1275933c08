"""Public pages. Views only pick a selector and a template; rules live in selectors."""

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import resolve, reverse
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import DetailView, ListView, TemplateView

from cms import media_headers
from sitecontent.caching.middleware import NOT_SHARED_PREFIXES
from sitecontent.media import selectors as media_selectors
from sitecontent.models import Category, Document, Tag, visibility
from sitecontent.public import search, selectors
from sitecontent.public.templating import absolute_url
from sitecontent.publishing import previews as preview_links


class HomeView(TemplateView):
    template_name = "sitecontent/home.jinja"

    def get_context_data(self, **kwargs):
        featured, latest = selectors.home_articles()
        return super().get_context_data(featured=featured, latest=latest, **kwargs)


class ArticleListView(ListView):
    template_name = "sitecontent/article_list.jinja"
    context_object_name = "articles"
    paginate_by = settings.ARTICLES_PER_PAGE

    def get_queryset(self):
        return selectors.article_listing()

    def paginate_queryset(self, queryset, page_size):
        paginator, page, articles, is_paginated = super().paginate_queryset(queryset, page_size)
        return paginator, page, selectors.with_card_tags(articles), is_paginated


class LastModifiedMixin:
    """Last-Modified from the item shown, so browsers and the CDN can ask "changed since?"."""

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        item = context.get("article") or context.get("page")
        if item is not None:
            response["Last-Modified"] = http_date(item.updated_at.timestamp())
        return response


class ArticleDetailView(LastModifiedMixin, DetailView):
    template_name = "sitecontent/article_detail.jinja"
    context_object_name = "article"

    def get_queryset(self):
        return selectors.article_detail_queryset()

    def get_object(self, queryset=None):
        article = selectors.live_article(self.kwargs["slug"])
        if article is None:
            raise Http404("No article at this address.")
        return article


class _ArchiveView(ArticleListView):
    """Articles in one category or with one tag, and the addresses of their feeds."""

    model = None
    feed_url_names = {}  # {"rss": URL name, "atom": URL name}
    template_name = "sitecontent/article_archive.jinja"

    def get(self, request, *args, **kwargs):
        self.archive = get_object_or_404(self.model, slug=kwargs["slug"])
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        feeds = {
            kind: reverse(name, kwargs={"slug": self.archive.slug})
            for kind, name in self.feed_url_names.items()
        }
        return super().get_context_data(archive=self.archive, feeds=feeds, **kwargs)


class CategoryDetailView(_ArchiveView):
    model = Category
    feed_url_names = {
        "rss": "sitecontent:category_feed_rss",
        "atom": "sitecontent:category_feed_atom",
    }

    def get_queryset(self):
        return selectors.article_cards().filter(category=self.archive)


class TagDetailView(_ArchiveView):
    model = Tag
    feed_url_names = {"rss": "sitecontent:tag_feed_rss", "atom": "sitecontent:tag_feed_atom"}

    def get_queryset(self):
        return selectors.article_cards().filter(tags=self.archive)


class PageDetailView(LastModifiedMixin, TemplateView):
    template_name = "sitecontent/page_detail.jinja"

    def get_context_data(self, **kwargs):
        page = selectors.page_by_path(kwargs["path"])
        if page is None:
            raise Http404("No page at this address.")
        return super().get_context_data(
            page=page,
            ancestors=page.ancestors(),
            children=selectors.page_children(page),
            **kwargs,
        )


def document_response(document):
    """A document, always as a download with the type its bytes were checked to be.

    On S3 this redirects to the CDN copy (whose stored headers say the same); locally it
    streams the file. Callers decide who may have it and set Cache-Control.
    """
    if isinstance(default_storage, FileSystemStorage):
        # The headers the S3 object and CloudFront give it (type, attachment, nosniff,
        # a sandboxing CSP), from the stored name as there.
        response = FileResponse(default_storage.open(document.file.name, "rb"))
        return media_headers.apply(response, document.file.name)
    return HttpResponseRedirect(document.file.url)


def _document_or_404(pk, filename) -> Document:
    document = Document.objects.filter(pk=pk).first()
    if document is None or filename != document.filename:
        raise Http404("No such document.")
    return document


def document_download(request, pk, filename):
    """/documents/<id>/<name>: only what the public site shows (sitecontent.models.visibility);
    any other document is a 404, the same as one that does not exist."""
    document = _document_or_404(pk, filename)
    if not visibility.document_is_public(document):
        raise Http404("No such document.")
    response = document_response(document)
    response["Cache-Control"] = "public, max-age=300"
    return response


def _previewed_item(token):
    """The item a preview link shows, its draft laid over it; 404 for a bad link."""
    from django.apps import apps

    from sitecontent.models import Revision
    from sitecontent.publishing import revisions

    data = preview_links.read(token)
    if data is None:
        raise Http404("No such preview.")
    model = apps.get_model(data["m"])
    item = model.objects.filter(pk=data["i"]).first()
    if item is None:
        raise Http404("No such preview.")
    if data.get("r"):
        revision = Revision.objects.for_item(item).filter(pk=data["r"]).first()
        if revision is None:
            raise Http404("No such preview.")
        revisions.overlay(item, revision.data)
    return item


def _private(response):
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"  # the link is the key: keep it off Referers
    return response


def preview_document(request, token, pk, filename):
    """A download the previewed item lists, for whoever holds the preview link (the
    public address answers only for documents the live site shows)."""
    item = _previewed_item(token)
    document = _document_or_404(pk, filename)
    if document.pk not in media_selectors.document_ids_shown_by(item):
        raise Http404("No such document.")
    return _private(document_response(document))


def preview(request, token):
    """An article or page as it will render, from a signed link; never cached, never
    indexed, and a 404 once the link is bad or expired."""
    item = _previewed_item(token)
    return _private(item_preview_response(request, item, preview_token=token))


def item_preview_response(request, item, **extra) -> TemplateResponse:
    """An article or page, saved or not, rendered as visitors will see it: the signed
    preview and the admin's live preview (sitecontent.admin.preview) both come here."""
    if item._meta.model_name == "article":
        template, context = "sitecontent/article_detail.jinja", {"article": item}
    else:
        template = "sitecontent/page_detail.jinja"
        context = {
            "page": item,
            "ancestors": item.ancestors(),
            "children": selectors.page_children(item) if item.pk else [],
        }
    return TemplateResponse(request, template, {**context, "preview": True, **extra})


class SearchView(ListView):
    """/search/?q=…: articles, best first, with highlighted snippets; matching pages
    above them. Any text at all is a valid query."""

    template_name = "sitecontent/search.jinja"
    context_object_name = "articles"
    paginate_by = settings.ARTICLES_PER_PAGE

    def get_queryset(self):
        self.query = search.clean_query(self.request.GET.get("q", ""))
        self.terms = search.query_terms(self.query)
        return search.search(selectors.search_articles(), self.query)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for article in context["articles"]:
            article.snippet = search.snippet(f"{article.summary} {article.body}", self.terms)
        pages = search.search(selectors.search_pages(), self.query)[:5]
        for page in pages:
            page.snippet = search.snippet(page.body, self.terms)
        return {**context, "query": self.query, "pages": pages}


def robots_txt(request):
    # What no shared cache keeps, no crawler indexes either; search results are public
    # but endless.
    disallowed = [*NOT_SHARED_PREFIXES, "/search/"]
    lines = [
        "User-agent: *",
        *(f"Disallow: {prefix}" for prefix in disallowed),
        f"Sitemap: {absolute_url(reverse('sitecontent:sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@csrf_exempt  # the API's own views decide (they are read-only and refuse writes with 405)
def api(request):
    """Everything under /api/, dispatched through sitecontent.api.urls.

    Including that URLconf in cms.public_urls would import Django REST framework
    whenever any URL is reversed, i.e. on every cold start; most cold starts serve a
    page, not the API. Resolving here imports it on the first API request only."""
    match = resolve(request.path_info, urlconf="sitecontent.api.urls")
    request.resolver_match = match
    return match.func(request, *match.args, **match.kwargs)
