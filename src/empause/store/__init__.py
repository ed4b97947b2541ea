"""Persistence: SQLAlchemy 2 models, Alembic migrations, sessions and the unit of work."""
