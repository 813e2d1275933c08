"""CDN purges gathered per transaction: ``purge_after_commit`` collects every path a
transaction touched and, when it commits, enqueues one task (cms.tasks.purge_cdn_paths)
that sends one purge through the configured backend (cms.cdn).
"""

from django.db import transaction

from cms.cdn import collapse_paths


class _Flush:
    """An on-commit callback sending the paths gathered so far in this transaction.

    Every call of ``purge_after_commit`` registers one, all sharing one set of paths:
    the first to run sends them all and the others find nothing left to send.
    """

    def __init__(self, paths: set[str]):
        self.paths = paths

    def __call__(self):
        # Imported when a purge is sent: production start-up need not import django.tasks
        # (cms.apps); a cold start serving a page sends none.
        from cms.tasks import purge_cdn_paths

        if self.paths:
            paths = collapse_paths(self.paths)
            self.paths.clear()
            purge_cdn_paths.enqueue(paths=paths)


def purge_after_commit(paths, *, using=None) -> None:
    """Purge ``paths`` once the current transaction commits (at once outside one).

    Everything a transaction touches (an article, then its tags) is sent as one purge.
    """
    connection = transaction.get_connection(using)
    pending = getattr(connection, "_pending_cdn_paths", None)
    # No flush waiting (none yet, or the transaction holding them rolled back): start afresh.
    if pending is None or not any(isinstance(cb[1], _Flush) for cb in connection.run_on_commit):
        pending = connection._pending_cdn_paths = set()
    pending.update(paths)
    # robust: the content is already committed; a failed enqueue is logged and left
    # on record as a failed task run, not turned into an error for the editor.
    transaction.on_commit(_Flush(pending), using=using, robust=True)
