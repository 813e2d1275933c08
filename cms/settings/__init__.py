"""Settings: ``base`` holds everything; ``local``, ``test`` and ``production`` only override.

Staging and production differ by environment variables, not by files.
"""
