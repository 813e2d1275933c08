"""Pages as a tree: where a page sits (its parent) and its place among its siblings
(``menu_order``), read for the admin's explorer and changed by moving and reordering.

Who may rearrange pages (checked here, so the explorer, its JSON endpoints and a
forged POST meet the same rule; the explorer asks ``can_move`` to offer its controls):

- **Moving a page** (to another parent, or to another place among its siblings) needs
  the right to change it (``roles.can_change``: Editors their own pages, Publishers any),
  and when the page or any page below it is published (live, scheduled or expired) the
  right to publish pages (``roles.can_publish``): its public address, the navigation
  and the parents' lists of sub-pages change at once, with no draft in between, as
  Wagtail asks publish permission to move a live page. The siblings renumbered to make
  room keep their order among themselves, so nothing else a visitor sees changes.
- **Reordering** a parent's children at once (``pages_reorder``): an order that moving
  one page would give is judged as that move; any other needs the right to move every
  page whose place changes.

A move keeps slugs unique among the new siblings (and clear of the site's other
addresses at the top level), refuses cycles and trees deeper than ``Page.MAX_DEPTH``,
and numbers the siblings' ``menu_order`` 0, 1, 2… in their new order. Addresses follow
by the pages' own saves: sitecontent.publishing.receivers redirects the old address of
the page and of every published page below it, and sitecontent.caching.receivers purges
the old and new paths (and the parents' pages, which list their sub-pages). A pending
draft of a moved page takes the new place too, so publishing it later does not move the
page back. A move keeps no revision of its own (the audit log records it as MOVE, from
and to); restoring a revision from before it puts the page back where it was then.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from sitecontent import roles
from sitecontent.models import AuditEvent, Page, Revision

# What the explorer shows of each page; never the body or the search vector.
TREE_FIELDS = (
    "title",
    "slug",
    "parent_id",
    "menu_order",
    "show_in_menus",
    "is_published",
    "publish_at",
    "unpublish_at",
    "owner_id",
)


# -- reading the tree ---------------------------------------------------------------


@dataclass
class TreeNode:
    page: Page
    depth: int
    children: list["TreeNode"] = field(default_factory=list)
    published_below: bool = False  # a page under this one is published
    has_draft: bool = False  # changes wait as a draft revision

    @property
    def subtree_published(self) -> bool:
        return self.page.is_published or self.published_below


def _sibling_key(page: Page):
    return (page.menu_order, page.title.lower(), page.pk)


def page_tree() -> list[TreeNode]:
    """Every page as nested nodes, siblings in menu order: one query, however many
    pages (each page's parent is the node above it, so addresses cost nothing more)."""
    newest = Revision.objects.filter(
        content_type__app_label="sitecontent",
        content_type__model="page",
        object_id=OuterRef("pk"),
    ).order_by("-created_at", "-id")
    pages = list(
        Page.objects.only(*TREE_FIELDS).annotate(
            newest_revision=Subquery(newest.values("pk")[:1]),
            newest_applied=Subquery(newest.values("applied_at")[:1]),
        )
    )
    by_parent = defaultdict(list)
    by_id = {page.pk: page for page in pages}
    for page in pages:
        by_parent[page.parent_id].append(page)
        if page.parent_id is not None:
            page.parent = by_id[page.parent_id]

    def build(parent_id, depth):
        nodes = []
        for page in sorted(by_parent[parent_id], key=_sibling_key):
            node = TreeNode(
                page=page,
                depth=depth,
                children=build(page.pk, depth + 1),
                has_draft=page.newest_revision is not None and page.newest_applied is None,
            )
            node.published_below = any(child.subtree_published for child in node.children)
            nodes.append(node)
        return nodes

    return build(None, 1)


def walk(nodes: list[TreeNode]):
    """Every node, depth first, in the order the explorer lists them."""
    for node in nodes:
        yield node
        yield from walk(node.children)


# -- who may -------------------------------------------------------------------------


def can_move(user, page: Page, *, subtree_published: bool) -> bool:
    """Whether ``user`` may move ``page``; ``subtree_published``: it or a page below it
    is published (see the module's docstring)."""
    if not roles.can_change(user, page):
        return False
    return not subtree_published or roles.can_publish(user, Page)


def _subtree(page: Page) -> list[Page]:
    """The pages below ``page`` (one query per level), each with its parent attached."""
    found, level = [], [page]
    while level:
        below = list(Page.objects.filter(parent__in=level).only(*TREE_FIELDS))
        parents = {node.pk: node for node in level}
        for child in below:
            child.parent = parents[child.parent_id]
        found.extend(below)
        level = below
    return found


def _require_move(user, page: Page, subtree: list[Page]) -> None:
    published = page.is_published or any(p.is_published for p in subtree)
    if can_move(user, page, subtree_published=published):
        return
    if published and roles.can_change(user, page):
        raise PermissionDenied(
            _("“%(page)s” or a page below it is published, so only a publisher may move it.")
            % {"page": page}
        )
    raise PermissionDenied(roles.why_read_only(user, page) or _("You may not move this page."))


# -- writing -------------------------------------------------------------------------


def _siblings(parent: Page | None, *, exclude=None):
    siblings = (
        Page.objects.filter(parent=parent)
        .select_for_update()
        .order_by("menu_order", Lower("title"), "pk")
    )
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude.pk)
    return list(siblings)


def _renumber(ordered: list[Page], *, parent: Page | None) -> None:
    """menu_order 0, 1, 2… in this order; each changed page saved on its own, so the
    save receivers purge what showed it (and redirect, for a page whose parent changed)."""
    for index, page in enumerate(ordered):
        moved = page.parent_id != (parent.pk if parent else None)
        if page.menu_order == index and not moved:
            continue
        page.menu_order, page.parent = index, parent
        fields = ["menu_order", "updated_at"] + (["parent"] if moved else [])
        page.save(update_fields=fields)
        _follow_in_draft(page)


def _follow_in_draft(page: Page) -> None:
    """A pending draft of ``page`` takes its new place: publishing it must not undo the
    move (parent and menu_order are revision fields)."""
    newest = Revision.objects.for_item(page).first()
    if newest is None or not newest.is_draft:
        return
    place = {"parent": page.parent_id, "menu_order": page.menu_order}
    if any(newest.data.get(name) != value for name, value in place.items()):
        newest.data = {**newest.data, **place}
        newest.save(update_fields=["data"])


def _check_depth(page: Page, parent: Page | None, subtree: list[Page]) -> None:
    """Refuse a move that would put any page of the subtree deeper than MAX_DEPTH (the
    page's own check, Page.clean, knows nothing of the pages below it)."""
    levels_below = max((_levels_under(node, page) for node in subtree), default=0)
    depth = (len(parent.ancestors()) + 2 if parent else 1) + levels_below
    if depth > Page.MAX_DEPTH:
        raise ValidationError(
            {"parent": _("Pages nest at most %(n)d deep.") % {"n": Page.MAX_DEPTH}}
        )


def _levels_under(node: Page, top: Page) -> int:
    levels = 0
    while node is not None and node.pk != top.pk:
        node, levels = node.parent, levels + 1
    return levels


def _place(page: Page) -> dict:
    return {
        "parent": page.parent_id,
        "parent_title": str(page.parent) if page.parent_id else "",
        "menu_order": page.menu_order,
        "url": page.get_absolute_url(),
    }


@transaction.atomic
def page_move(*, page: Page, parent: Page | None, position: int, user) -> Page:
    """Put ``page`` under ``parent`` (None: the top level) at index ``position`` among
    its new siblings (clamped to the list), renumbering them. Raises PermissionDenied
    or ValidationError (by field: ``parent``, ``slug``, ``position``)."""
    page = Page.objects.select_for_update().get(pk=page.pk)
    if parent is not None:
        parent = Page.objects.get(pk=parent.pk)
    subtree = _subtree(page)
    _require_move(user, page, subtree)
    if position < 0:
        raise ValidationError({"position": _("The position cannot be negative.")})
    if parent is not None and (parent.pk == page.pk or parent.pk in {p.pk for p in subtree}):
        raise ValidationError({"parent": _("A page cannot be moved under itself.")})
    before = _place(page)
    moving = page.parent_id != (parent.pk if parent else None)
    if moving:
        _check_depth(page, parent, subtree)
        candidate = Page.objects.get(pk=page.pk)
        candidate.parent = parent
        # The model's own rules: a slug free among the new siblings (or, at the top,
        # free of the site's other addresses), no cycle, the depth of the page itself.
        candidate.full_clean()
    siblings = _siblings(parent, exclude=page)
    siblings.insert(min(position, len(siblings)), page)
    _renumber(siblings, parent=parent)
    page.refresh_from_db()
    after = _place(page)
    if before != after:
        AuditEvent.objects.record(
            AuditEvent.Action.MOVE, user=user, item=page, **{"from": before, "to": after}
        )
    return page


def _one_move(old: list[int], new: list[int]) -> list[int]:
    """The pages whose move alone turns order ``old`` into ``new``."""
    return [pk for pk in old if [x for x in old if x != pk] == [x for x in new if x != pk]]


@transaction.atomic
def pages_reorder(*, parent: Page | None, ordered_ids: list[int], user) -> list[Page]:
    """Give ``parent``'s children (None: the top-level pages) the order ``ordered_ids``,
    which must name each of them once."""
    children = _siblings(parent)
    by_id = {page.pk: page for page in children}
    if len(ordered_ids) != len(set(ordered_ids)) or set(ordered_ids) != set(by_id):
        raise ValidationError(
            {"ordered_ids": _("The new order must list each page at this level once.")}
        )
    old = [page.pk for page in children]
    if old == list(ordered_ids):
        return children
    movers = _one_move(old, list(ordered_ids))
    allowed = [pk for pk in movers if _may_move(user, by_id[pk])]
    if movers and not allowed:
        _require_move(user, by_id[movers[0]], _subtree(by_id[movers[0]]))
    if not movers:
        changed = [pk for pk, was in zip(ordered_ids, old, strict=True) if pk != was]
        for pk in changed:
            _require_move(user, by_id[pk], _subtree(by_id[pk]))
        recorded = changed
    else:
        recorded = allowed[:1]
    before = {pk: _place(by_id[pk]) for pk in recorded}
    ordered = [by_id[pk] for pk in ordered_ids]
    _renumber(ordered, parent=parent)
    for pk in recorded:
        AuditEvent.objects.record(
            AuditEvent.Action.MOVE,
            user=user,
            item=by_id[pk],
            **{"from": before[pk], "to": _place(by_id[pk])},
        )
    return ordered


def _may_move(user, page: Page) -> bool:
    subtree = _subtree(page)
    published = page.is_published or any(p.is_published for p in subtree)
    return can_move(user, page, subtree_published=published)
