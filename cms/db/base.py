"""Django's PostgreSQL backend, taking the user name and password from the stage's
database secret (DATABASE_SECRET_ARN, the RDS-managed master secret) at every new
connection, never from settings.

cms.secrets caches the secret for SECRETS_TTL seconds. RDS rotates a managed master
password every seven days: a connection refused with the cached credentials re-reads
the secret once and, if it changed, connects again with the new ones, so the first
connection after a rotation succeeds instead of failing until the cache expires.
"""

import logging

from django.db.backends.postgresql import base

from cms import secrets

logger = logging.getLogger(__name__)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        params["user"], params["password"] = secrets.database_credentials()
        return params

    def get_new_connection(self, conn_params):
        try:
            return super().get_new_connection(conn_params)
        except self.Database.OperationalError:
            # Refused, or unreachable: only new credentials are worth a second try. (The
            # server's message is not matched: it may be translated, or come from a proxy.)
            tried = (conn_params.get("user"), conn_params.get("password"))
            fresh = secrets.database_credentials(refresh=True)
            if fresh == tried:
                raise
        logger.warning("The database secret has changed (rotated); connecting with it")
        return super().get_new_connection({**conn_params, "user": fresh[0], "password": fresh[1]})
