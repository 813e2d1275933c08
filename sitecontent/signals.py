"""The domain signals of publishing, as wagtail.signals has page_published,
page_unpublished and page_slug_changed.

The publishing services (sitecontent.publishing) send them; redirects and CDN purges
listen (each area's ``receivers.py``). Every signal's ``sender`` is the model class
(Article or Page) and ``instance`` the saved item, so a receiver connects with an
explicit sender.

content_published
    The public site now shows this version of ``instance``: it was published now
    (``content_publish``), went live by itself at its go-live time (the minute tick),
    or a live item's content changed through a publisher (a draft put live, restored or
    applied at its scheduled time; a publisher's direct save). Scheduling alone does
    not send it: nothing public changes until the time comes, and then the tick sends
    it. Not sent for drafts or saves nobody can see.

content_unpublished
    The public site stopped showing ``instance``: it was unpublished, expired (the
    tick), deleted while live, or rescheduled from live to a future go-live time.

content_address_changed
    A published item's address moved from ``old_url`` to ``new_url`` (both paths);
    for a page, the addresses of the pages below it moved too. Sent for every way a
    slug or parent changes, the ORM included (see sitecontent.publishing.receivers).
"""

from django.dispatch import Signal

content_published = Signal()  # sender, instance
content_unpublished = Signal()  # sender, instance
content_address_changed = Signal()  # sender, instance, old_url, new_url
