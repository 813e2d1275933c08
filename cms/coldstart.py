"""A Lambda cold start without pauses for the cyclic garbage collector.

Loading Django and this project, then answering the first request (URLconf, template
compilation), allocates a few hundred thousand objects, nearly all of which live as
long as the container; yet the collector keeps stopping to scan them: about 20 ms of a
cold start here (measured with gc.callbacks; docs/benchmarks.md). Production settings
pause it before anything else is imported. It comes back, with everything made so far
frozen (moved where collections never scan it again, which keeps the warm container's
later collections cheap too), at whichever comes first:

- the end of the first HTTP request (``request_finished``);
- the start of any other event this project handles (``cms.lambda_events``);
- ``django.setup()`` in a management command (``manage.py``, ``zappa manage``
  runs commands through ``call_command`` and resumes at the next event instead).

A container that only ever gets keep-warm pings allocates next to nothing meanwhile.
"""

import gc
import sys

_paused = False


def pause() -> None:
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume(*args, **kwargs) -> None:
    """Does nothing unless pause() turned the collector off. (Signal-receiver shaped.)"""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def started() -> None:
    """Apps are loading (cms.apps): resume now in a command, else after the first
    request."""
    if not _paused:
        return
    if sys.argv and sys.argv[0].endswith(("manage.py", "django-admin")):
        resume()
        return
    from django.core.signals import request_finished

    request_finished.connect(resume, dispatch_uid="cms.coldstart.resume")
