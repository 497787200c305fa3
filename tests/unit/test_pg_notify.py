"""LISTEN/NOTIFY on the machine's PostgreSQL: an outbox write wakes a listener in another
connection at once; a rolled-back one does not; a listener cut off by the server comes back."""

import asyncio

import sqlalchemy as sa

from posta import pg_notify
from posta.db import connect
from posta.whatsapp import outbound
from posta.whatsapp.outbox import Outbox
from tests.conftest import fresh_postgres_database


async def heard_within(seconds: float, heard: asyncio.Event) -> bool:
    try:
        await asyncio.wait_for(heard.wait(), seconds)
        return True
    except asyncio.TimeoutError:
        return False


def test_an_outbox_write_wakes_a_listener_and_a_rolled_back_one_does_not():
    with fresh_postgres_database("posta_notify") as url:

        async def scenario():
            heard = asyncio.Event()
            listener = asyncio.ensure_future(pg_notify.listen(connect(url), pg_notify.OUTBOX, heard.set))
            assert await heard_within(5, heard)  # on (re)connecting: look at what is there
            heard.clear()
            writer = sa.create_engine(url)  # another process's connection
            with writer.connect() as conn:
                transaction = conn.begin()
                Outbox(url).enqueue(outbound.text("5491155550123", "Hola"), purpose="reply", conn=conn)
                transaction.rollback()
            assert not await heard_within(0.5, heard)
            await asyncio.to_thread(Outbox(url).enqueue, outbound.text("5491155550123", "Hola"), purpose="reply")
            assert await heard_within(2, heard)
            listener.cancel()
            writer.dispose()

        asyncio.run(scenario())
        connect(url).dispose()


def test_a_listener_cut_off_by_the_server_listens_again():
    with fresh_postgres_database("posta_notify") as url:

        async def scenario():
            heard = asyncio.Event()
            listener = asyncio.ensure_future(pg_notify.listen(connect(url), "posta_test", heard.set, retry=0.2))
            assert await heard_within(5, heard)
            heard.clear()
            with sa.create_engine(url, isolation_level="AUTOCOMMIT").connect() as admin:
                admin.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE query LIKE 'LISTEN%' AND datname = current_database()"
                    )
                )
                assert await heard_within(5, heard)  # reconnected (and told to look)
                heard.clear()
                admin.execute(sa.text("SELECT pg_notify('posta_test', '')"))
                assert await heard_within(2, heard)
            listener.cancel()

        asyncio.run(scenario())
        connect(url).dispose()
