"""PostgreSQL with its credentials from Secrets Manager (ENGINE "cms.db"; see base.py)."""
