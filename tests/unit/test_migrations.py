"""Upgrades keep the data: the migrations build exactly the schema the code declares, and a
database made before migrations existed is upgraded with every row still there."""

from __future__ import annotations

import contextlib

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from posta import migrations, schema
from posta.db import connect, utcnow
from tests.conftest import fresh_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    with (
        fresh_postgres_database("posta_migrate")
        if request.param == "postgresql"
        else contextlib.nullcontext(f"sqlite:///{tmp_path / 'posta.db'}")
    ) as url:
        yield url


def differences(engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(
            MigrationContext.configure(conn, opts={"include_name": migrations.ours}), schema.metadata
        )


def test_the_migrations_build_the_schema_the_code_declares(url):
    engine = sa.create_engine(url)
    migrations.upgrade(engine)
    assert differences(engine) == []
    with engine.connect() as conn:
        assert migrations.current(conn) == migrations.head()


def rows_of_every_table(now):
    """One row per Posta table, as today's code writes them."""
    return {
        schema.cases: dict(
            id=1,
            conversation_id="5491100000001",
            status="active",
            reason="sensitive",
            topic="health",
            urgent=True,
            after_hours=False,
            language="es",
            summary="{}",
            created_at=now,
            agent="Ana",
            team="optica",
        ),
        schema.case_events: dict(id=1, case_id=1, at=now, kind="created", detail="sensitive"),
        schema.agent_state: dict(agent="Ana", active_case_id=1),
        schema.contacts: dict(phone="5491100000001", name="Lucía", last_inbound_at=now),
        schema.inbox: dict(
            id=1, message_id="wamid.1", sender="5491100000001", kind="text", received_at=now, payload="{}", attempts=0
        ),
        schema.outbox: dict(
            id=1,
            recipient="5491100000001",
            body="{}",
            purpose="reply",
            status="sent",
            attempts=1,
            next_attempt_at=now,
            created_at=now,
            used_template=False,
        ),
        schema.sessions: dict(token_hash="a" * 64, agent="Ana", created_at=now, expires_at=now),
        schema.settings: dict(key="secret", value="x"),
        schema.login_failures: dict(id=1, key="name:ana", at=now),
        schema.job_runs: dict(key="daily:2026-12-01", ran_at=now),
        schema.media: dict(
            id=1,
            conversation_id="5491100000000",
            direction="in",
            kind="image",
            mime_type="image/jpeg",
            size=3,
            sha256="0" * 64,
            content=b"jpg",
            created_at=now,
        ),
        schema.bot_ratings: dict(id=1, conversation_id="5491100000000", asked_at=now, language="es", rating=1),
    }


# The tables migration 0001 describes (what main made before migrations); later ones add the rest.
LATER = {"posta_media", "posta_bot_ratings"}


def test_a_database_from_before_migrations_is_upgraded_with_every_row(url):
    # What main made before migrations: 0001's tables exactly, no version table.
    engine = sa.create_engine(url)
    now = utcnow().replace(microsecond=0)
    rows = rows_of_every_table(now)
    assert set(rows) == set(schema.metadata.sorted_tables)
    rows = {table: row for table, row in rows.items() if table.name not in LATER}
    migrations.upgrade(engine, migrations.BASELINE)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE {migrations.VERSION_TABLE}"))
        for table, row in rows.items():
            conn.execute(table.insert().values(**row))
    engine.dispose()

    upgraded = connect(url)  # what every process does when it starts

    with upgraded.connect() as conn:
        assert migrations.current(conn) == migrations.head()
        for table, row in rows.items():
            stored = conn.execute(sa.select(table)).mappings().all()
            assert len(stored) == 1, table.name
            for column, value in row.items():
                assert stored[0][column] == value, (table.name, column)
    assert differences(upgraded) == []


def test_processes_that_start_together_migrate_once(tmp_path):
    import threading

    url = f"sqlite:///{tmp_path / 'posta.db'}"
    errors = []

    def start():
        try:
            migrations.upgrade(sa.create_engine(url))
        except Exception as error:  # noqa: BLE001 - any failure fails the test
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sa.create_engine(url).connect() as conn:
        assert migrations.current(conn) == migrations.head()
