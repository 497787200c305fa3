"""Shared fixtures: one database for the whole run.

SQLite in a temporary directory by default. With POSTA_TEST_POSTGRES_URL set (CI sets
it to the machine's PostgreSQL), a fresh database is created on that server for the run
and dropped afterwards.
"""

import os
import uuid

import pytest
import sqlalchemy as sa


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    admin_url = os.environ.get("POSTA_TEST_POSTGRES_URL")
    if not admin_url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'posta.db'}"
        return
    name = f"posta_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    yield str(sa.engine.make_url(admin_url).set(database=name))
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()
