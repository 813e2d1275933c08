"""The page explorer (/admin/sitecontent/page/tree/): every page nested under its
parent, in menu order, with its status, and controls to rearrange them.

Dragging a page (static/js/page_tree.js) before, after or into another POSTs JSON to
``tree/reorder/`` (a new order among the same siblings) or ``tree/move/`` (a new
parent); the "Move up", "Move down" and "Move…" controls are plain forms posting to
``tree/move/``, so the tree works from the keyboard and without scripts. The endpoints
answer JSON to JSON (errors with 400, 403 or 404); to a form, a redirect back to the
tree with a message (a refused permission or an unknown page: the admin's 403 or 404).
The rules (who may, slugs, cycles, depth) are sitecontent.publishing.tree's; this
module only unpacks requests.
"""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from sitecontent.models import Page
from sitecontent.publishing import tree


class BadRequest(Exception):
    """The request itself is malformed (not JSON, a missing or non-numeric id)."""


def _wants_json(request) -> bool:
    return request.content_type == "application/json"


def _payload(request) -> dict:
    if _wants_json(request):
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            raise BadRequest(_("The request is not valid JSON.")) from None
        if not isinstance(data, dict):
            raise BadRequest(_("The request is not a JSON object."))
        return data
    return {
        "page": request.POST.get("page"),
        "parent": request.POST.get("parent") or None,
        "position": request.POST.get("position"),
        "ordered_ids": request.POST.getlist("ordered_ids"),
    }


def _id(value, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadRequest(_("“%(name)s” must be a page id.") % {"name": name}) from None
    if number < 1:
        raise BadRequest(_("“%(name)s” must be a page id.") % {"name": name})
    return number


def _page(value, name: str) -> Page:
    try:
        return Page.objects.get(pk=_id(value, name))
    except Page.DoesNotExist:
        raise Http404(_("No such page.")) from None


def _parent(value) -> Page | None:
    return None if value in (None, "", "root") else _page(value, "parent")


class PageTreeAdminMixin:
    """The explorer's views, for PageAdmin (the ModelAdmin's own permission checks gate
    the views; the services check each move)."""

    tree_template = "admin/sitecontent/page/tree.html"
    move_template = "admin/sitecontent/page/move.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        # Before the ModelAdmin's own: its "<path:object_id>/" would take "tree/".
        return [
            path("tree/", wrap(self.tree_view), name="sitecontent_page_tree"),
            path("tree/move/", wrap(self.tree_move_view), name="sitecontent_page_tree_move"),
            path(
                "tree/reorder/", wrap(self.tree_reorder_view), name="sitecontent_page_tree_reorder"
            ),
            path(
                "tree/<int:page_id>/move/",
                wrap(self.tree_move_form_view),
                name="sitecontent_page_tree_move_form",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"page_tree_url": reverse("admin:sitecontent_page_tree"), **(extra_context or {})}
        return super().changelist_view(request, extra)

    # -- reading ---------------------------------------------------------------

    def _tree_require_view(self, request):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied

    def _tree_context(self, request, title, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            **extra,
        }

    def _tree_annotate(self, request, nodes):
        """What the template needs per node: may this user move it, where are its
        links, and which sibling positions its up/down buttons ask for."""
        user = request.user
        may_add = self.has_add_permission(request)
        add_url = reverse("admin:sitecontent_page_add")

        def visit(siblings, parent):
            for index, node in enumerate(siblings):
                node.index = index
                node.parent_id = parent.page.pk if parent else None
                node.movable = tree.can_move(
                    user, node.page, subtree_published=node.subtree_published
                )
                node.first, node.last = index == 0, index == len(siblings) - 1
                node.badge = self.status_badge(node.page)
                node.change_url = reverse("admin:sitecontent_page_change", args=[node.page.pk])
                node.add_child_url = f"{add_url}?parent={node.page.pk}" if may_add else ""
                node.move_url = reverse(
                    "admin:sitecontent_page_tree_move_form", args=[node.page.pk]
                )
                visit(node.children, node)

        visit(nodes, None)
        return nodes

    def tree_view(self, request):
        self._tree_require_view(request)
        nodes = self._tree_annotate(request, tree.page_tree())
        context = self._tree_context(
            request,
            _("Page tree"),
            nodes=nodes,
            page_count=sum(1 for _node in tree.walk(nodes)),
            add_url=reverse("admin:sitecontent_page_add")
            if self.has_add_permission(request)
            else "",
            move_endpoint=reverse("admin:sitecontent_page_tree_move"),
            reorder_endpoint=reverse("admin:sitecontent_page_tree_reorder"),
        )
        return TemplateResponse(request, self.tree_template, context)

    def tree_move_form_view(self, request, page_id):
        """ "Move…": choose a new parent from a list (the keyboard's way to move a page
        anywhere); the form posts to ``tree/move/``."""
        self._tree_require_view(request)
        nodes = tree.page_tree()
        by_id = {node.page.pk: node for node in tree.walk(nodes)}
        node = by_id.get(page_id)
        if node is None:
            raise Http404(_("No such page."))
        below = {n.page.pk for n in tree.walk([node])}
        choices = [n for n in tree.walk(nodes) if n.page.pk not in below]
        for choice in choices:
            choice.indent = "— " * (choice.depth - 1)
        context = self._tree_context(
            request,
            _("Move “%(page)s”") % {"page": node.page},
            node=node,
            choices=choices,
            movable=tree.can_move(
                request.user, node.page, subtree_published=node.subtree_published
            ),
            current_parent=node.page.parent_id,
            move_endpoint=reverse("admin:sitecontent_page_tree_move"),
            tree_url=reverse("admin:sitecontent_page_tree"),
        )
        return TemplateResponse(request, self.move_template, context)

    # -- writing ---------------------------------------------------------------

    def _tree_answer(self, request, action):
        """Run ``action`` (returns the success message) and answer as the request asks."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        as_json = _wants_json(request)
        tree_url = reverse("admin:sitecontent_page_tree")
        try:
            if not self.has_change_permission(request):
                raise PermissionDenied(_("You may not change pages."))
            done, page_id = action(_payload(request))
        except (BadRequest, ValidationError, PermissionDenied, Http404) as exc:
            status, text, errors = self._tree_error(exc)
            if as_json:
                return JsonResponse({"ok": False, "message": text, "errors": errors}, status=status)
            if status != 400:
                # The forms are offered only to those who may use them: a refusal here is
                # a forged or stale request, answered as the admin answers any other.
                raise
            self.message_user(request, text, messages.ERROR)
            return HttpResponseRedirect(tree_url)
        # Stored for the next page: the script reloads the tree, which shows it.
        self.message_user(request, done, messages.SUCCESS)
        if as_json:
            return JsonResponse({"ok": True, "message": done, "page": page_id})
        return HttpResponseRedirect(f"{tree_url}#page-{page_id}")

    @staticmethod
    def _tree_error(exc):
        if isinstance(exc, PermissionDenied):
            return 403, str(exc) or _("You may not move this page."), {}
        if isinstance(exc, Http404):
            return 404, str(exc) or _("No such page."), {}
        if isinstance(exc, ValidationError):
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            return 400, " ".join(exc.messages), errors
        return 400, str(exc), {}

    def tree_move_view(self, request):
        def move(data):
            page = _page(data.get("page"), "page")
            parent = _parent(data.get("parent"))
            raw_position = data.get("position")
            if raw_position in (None, "", "end"):
                position = 10**6  # after the last sibling
            else:
                try:
                    position = int(raw_position)
                except (TypeError, ValueError):
                    raise BadRequest(_("“position” must be a number.")) from None
            moved = tree.page_move(page=page, parent=parent, position=position, user=request.user)
            where = (
                _("under “%(parent)s”") % {"parent": moved.parent}
                if moved.parent_id
                else _("at the top level")
            )
            return (
                _("“%(page)s” is now %(where)s, at position %(n)d (%(url)s).")
                % {
                    "page": moved,
                    "where": where,
                    "n": moved.menu_order + 1,
                    "url": moved.get_absolute_url(),
                },
                moved.pk,
            )

        return self._tree_answer(request, move)

    def tree_reorder_view(self, request):
        def reorder(data):
            parent = _parent(data.get("parent"))
            raw = data.get("ordered_ids")
            if not isinstance(raw, list):
                raise BadRequest(_("“ordered_ids” must be a list of page ids."))
            ids = [_id(value, "ordered_ids") for value in raw]
            tree.pages_reorder(parent=parent, ordered_ids=ids, user=request.user)
            where = (
                _("under “%(parent)s”") % {"parent": parent} if parent else _("at the top level")
            )
            return (
                _("New order of the pages %(where)s saved.") % {"where": where},
                ids[0] if ids else None,
            )

        return self._tree_answer(request, reorder)
