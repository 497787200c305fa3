"""The one database: its URL, engines, timestamps, and the schema of every Posta table.

Rasa's tracker store (`events`) lives in the same database; Posta's tables are prefixed
`posta_`. SQLite file by default, PostgreSQL when `POSTA_DATABASE_URL` says so.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from functools import lru_cache
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

DEFAULT_URL = "sqlite:///posta.db"
metadata = sa.MetaData()


def database_url() -> str:
    """The URL every process uses: `POSTA_DATABASE_URL`, else a local SQLite file."""
    return os.environ.get("POSTA_DATABASE_URL", "").strip() or DEFAULT_URL


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


@lru_cache(maxsize=None)
def connect(url: Optional[str] = None) -> Engine:
    """One engine (and pool) per URL and process, with every Posta table created."""
    url = url or database_url()
    if url.startswith("sqlite"):
        # A pool: SQLAlchemy 1.4 would otherwise open (and set up) a new connection for
        # every statement on a file database.
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                                  poolclass=sa.pool.QueuePool, pool_size=5, max_overflow=10)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _):
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers don't block the writer
            # In WAL mode, NORMAL survives a killed process; only a power cut can lose
            # the last commits. The production profile uses PostgreSQL.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
    else:
        engine = sa.create_engine(url, pool_pre_ping=True)
    _import_tables()
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Replicas and workers start together: one creates the tables, the others wait.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(72617)"))
        metadata.create_all(conn)
    return engine


def insert(engine: Engine, table: sa.Table):
    """INSERT with ON CONFLICT support (`.on_conflict_do_nothing()`, `.on_conflict_do_update()`)
    on SQLite and PostgreSQL, so concurrent writers need no check-then-insert races."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(table)


def _import_tables() -> None:
    # Each module declares its tables on `metadata` when imported.
    import posta.store  # noqa: F401
    import posta.whatsapp.contacts  # noqa: F401
    import posta.whatsapp.outbox  # noqa: F401
    import posta.desk  # noqa: F401
    import posta.accounts  # noqa: F401
    import posta.jobs  # noqa: F401
