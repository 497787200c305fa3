"""Claims on the outbox: a sender whose call outlived its claim cannot undo the sender that
took the row over."""

from datetime import timedelta

import sqlalchemy as sa

from posta.db import utcnow
from posta.schema import outbox
from posta.whatsapp import outbound
from posta.whatsapp.outbox import Outbox


def test_a_slow_sender_that_lost_its_claim_cannot_requeue_a_sent_message(tmp_path):
    box = Outbox(f"sqlite:///{tmp_path}/outbox.db")
    [row_id] = box.enqueue(outbound.text("5491155550123", "Hola"), purpose="reply")
    [mine] = box.claim("slow-sender")
    with box.engine.begin() as conn:  # its call hangs past the stale limit
        conn.execute(outbox.update().where(outbox.c.id == row_id).values(claimed_at=utcnow() - timedelta(hours=1)))
    [theirs] = box.claim("other-sender")
    box.sent(theirs.id, "wamid.OK", used_template=False)

    assert not box.retry(mine.id, "timed out after 10 s", 1.0, owner="slow-sender")
    assert not box.failed(mine.id, "timed out after 10 s", owner="slow-sender")
    [row] = box.rows()
    assert (row.status, row.wamid) == ("sent", "wamid.OK")
    assert box.claim("slow-sender") == []  # nothing left to send twice


def test_the_sender_holding_the_claim_schedules_its_retry(tmp_path):
    box = Outbox(f"sqlite:///{tmp_path}/outbox.db")
    box.enqueue(outbound.text("5491155550123", "Hola"), purpose="reply")
    [row] = box.claim("sender")
    assert box.retry(row.id, "500", 0.0, owner="sender")
    with box.engine.connect() as conn:
        assert conn.execute(sa.select(outbox.c.status, outbox.c.attempts)).first() == ("pending", 1)
    assert [r.id for r in box.claim("sender")] == [row.id]
