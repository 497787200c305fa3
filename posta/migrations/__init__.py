"""Versioned migrations of Posta's tables (Alembic), so an upgrade keeps the data.

Every process brings the database up to date when it first connects (`posta.db.connect`);
`make migrate` does it by hand. Processes that start together take turns: PostgreSQL's
advisory lock, or a lock file beside a SQLite database. A database made before migrations
existed holds exactly the first revision's tables: it is marked as that revision, then
upgraded. A schema change is a new file in `versions/`, never an edit by hand.
"""

from __future__ import annotations

import contextlib
import fcntl
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Optional

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

HERE = Path(__file__).resolve().parent
VERSION_TABLE = "posta_alembic_version"
BASELINE = "0001"  # the tables as they were before migrations
ADVISORY_LOCK = 72617


def ours(name, type_, _parent_names) -> bool:
    """Autogenerate looks at Posta's tables only, not Rasa's `events` nor the version table."""
    return type_ != "table" or (name.startswith("posta_") and name != VERSION_TABLE)


def config(connection: Optional[Connection] = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=None)
def head() -> str:
    return ScriptDirectory.from_config(config()).get_current_head()


def current(conn: Connection) -> Optional[str]:
    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    with _one_at_a_time(engine), engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
        at = current(conn)
        if at == head() and revision == "head":
            return
        if at is None and sa.inspect(conn).has_table("posta_cases"):
            command.stamp(config(conn), BASELINE)
        command.upgrade(config(conn), revision)


@contextlib.contextmanager
def _one_at_a_time(engine: Engine) -> Iterator[None]:
    """SQLite's DDL through pysqlite is not transactional enough to serialise processes:
    a lock file beside the database does it."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
