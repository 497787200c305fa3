"""The one database: its URL, its engines, and its schema brought up to date on connect.

Rasa's tracker store (`events`) lives in the same database; Posta's tables
(`posta/schema.py`) are prefixed `posta_`. SQLite file by default, PostgreSQL when
`POSTA_DATABASE_URL` says so.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from functools import lru_cache
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from posta import migrations

DEFAULT_URL = "sqlite:///posta.db"


def database_url() -> str:
    """The URL every process uses: `POSTA_DATABASE_URL`, else a local SQLite file."""
    return os.environ.get("POSTA_DATABASE_URL", "").strip() or DEFAULT_URL


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@lru_cache(maxsize=None)
def connect(url: Optional[str] = None) -> Engine:
    """One engine (and pool) per URL and process, its Posta tables migrated to this version."""
    url = url or database_url()
    if url.startswith("sqlite"):
        # A pool: SQLAlchemy 1.4 would otherwise open (and set up) a new connection for
        # every statement on a file database.
        engine = sa.create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            poolclass=sa.pool.QueuePool,
            pool_size=5,
            max_overflow=10,
        )

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
    migrations.upgrade(engine)
    return engine


def insert(engine: Engine, table: sa.Table):
    """INSERT with ON CONFLICT support (`.on_conflict_do_nothing()`, `.on_conflict_do_update()`)
    on SQLite and PostgreSQL, so concurrent writers need no check-then-insert races."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(table)
