"""Storage: SQLModel tables, Alembic migrations, units of work (SQLite or PostgreSQL)."""

from sqlmodel import SQLModel

# Named constraints, so that later migrations (and SQLite batch mode) can refer to them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
