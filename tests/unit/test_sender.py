"""The outbox sender against a Graph API stand-in that records what it is asked to send:
a due message goes out once, a retryable error is tried again, a hopeless one is given up
and reported, and a closed 24-hour window gets the row's template instead."""

import asyncio
import time
from typing import Any, Dict, List, Optional

import pytest

from posta.schema import outbox as outbox_table
from posta.states import SendStatus
from posta.whatsapp import outbound
from posta.whatsapp import outbox as outbox_module
from posta.whatsapp.contacts import Contacts
from posta.whatsapp.graph import ErrorCode, GraphError
from posta.whatsapp.outbox import Outbox, Sender

CUSTOMER = "5215599990001"


class RecordingGraph:
    """What GraphClient offers the sender (`async send(body) -> wamid`); it answers each
    call with the next planned error, or accepts the message."""

    def __init__(self, *errors: Optional[GraphError]) -> None:
        self.plan = list(errors)
        self.calls: List[Dict[str, Any]] = []

    async def send(self, body: Dict[str, Any]) -> str:
        self.calls.append(body)
        error = self.plan.pop(0) if self.plan else None
        if error is not None:
            raise error
        return f"wamid.{len(self.calls)}"


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'sender.db'}"


def send_until(sender: Sender, settled, timeout: float = 10.0) -> None:
    """Runs the sender until `settled()` holds (checked against the database)."""

    async def scenario():
        running = asyncio.ensure_future(sender.run())
        deadline = time.monotonic() + timeout
        try:
            while not await asyncio.to_thread(settled):
                assert time.monotonic() < deadline, "the sender did not settle the outbox in time"
                await asyncio.sleep(0.02)
        finally:
            sender.stop()
            await sender.drain()
            await running

    asyncio.run(scenario())


def settled(box: Outbox):
    return lambda: all(r.status in (SendStatus.SENT, SendStatus.FAILED) for r in box.rows())


def test_a_due_message_is_sent_once_and_recorded(url):
    box, graph = Outbox(url), RecordingGraph()
    [body] = outbound.text(CUSTOMER, "Hola, abrimos a las 10")
    box.enqueue([body], purpose="reply", conversation_id=CUSTOMER)
    send_until(Sender(box, graph, Contacts(url), poll=0.02), settled(box))
    assert graph.calls == [body]
    [row] = box.rows()
    assert (row.status, row.wamid, row.attempts, row.error) == ("sent", "wamid.1", 1, None)


def test_a_retryable_error_is_tried_again_until_meta_takes_it(url, monkeypatch):
    monkeypatch.setattr(outbox_module, "FIRST_RETRY", 0.01)  # the same backoff, shorter
    box = Outbox(url)
    graph = RecordingGraph(
        GraphError("503 Service Unavailable", status=503),
        GraphError("throttled", status=400, code=ErrorCode.PAIR_RATE_LIMIT),
    )
    failures = []

    async def on_failure(row, error):
        failures.append(error)

    [body] = outbound.text(CUSTOMER, "Tu turno es el martes")
    box.enqueue([body], purpose="reply", conversation_id=CUSTOMER)
    send_until(Sender(box, graph, Contacts(url), on_failure=on_failure, poll=0.02), settled(box))
    assert graph.calls == [body, body, body]  # the same message, not another one
    [row] = box.rows()
    assert (row.status, row.wamid, row.attempts, row.error) == ("sent", "wamid.3", 3, None)
    assert failures == []


def test_a_hopeless_error_fails_the_row_and_tells_whoever_handles_failures(url):
    box = Outbox(url)
    graph = RecordingGraph(GraphError("400 Message undeliverable", status=400, code=131026))
    failures = []

    async def on_failure(row, error):
        failures.append((row.id, row.recipient, error))

    [body] = outbound.text(CUSTOMER, "te llamo en 5 minutos")
    [first, second] = box.enqueue(
        [body, outbound.text(CUSTOMER, "¿te parece?")[0]], purpose="relay", conversation_id=CUSTOMER
    )
    Contacts(url).seen(CUSTOMER)  # the customer wrote just now: the window is open
    send_until(Sender(box, graph, Contacts(url), on_failure=on_failure, poll=0.02), settled(box))
    assert graph.calls[0] == body
    rows = {r.id: r for r in box.rows()}
    assert (rows[first].status, rows[first].error) == ("failed", "400 Message undeliverable")
    assert failures == [(first, CUSTOMER, "400 Message undeliverable")]
    # The next message is not held back for ever by the one that failed.
    assert (rows[second].status, graph.calls[1:]) == ("sent", [rows[second].body])


def test_meta_saying_the_window_closed_gets_the_template_instead(url):
    box = Outbox(url)
    graph = RecordingGraph(GraphError("400 Re-engagement message", status=400, code=ErrorCode.REENGAGEMENT))
    [body] = outbound.text(CUSTOMER, "Hola Lucía, ya llegaron tus lentes")
    fallback = outbound.template(CUSTOMER, "faro_followup", "es", ["Lucía"])
    box.enqueue([body], purpose="relay", conversation_id=CUSTOMER, fallback=fallback)
    Contacts(url).seen(CUSTOMER)  # our record says open; Meta knows better
    send_until(Sender(box, graph, Contacts(url), poll=0.02), settled(box))
    assert graph.calls == [body, fallback]
    [row] = box.rows()
    assert (row.status, row.wamid) == ("sent", "wamid.2")
    with box.engine.connect() as conn:
        assert conn.execute(outbox_table.select()).first().used_template


def test_a_window_known_to_be_closed_sends_the_template_without_trying_the_text(url):
    box, graph = Outbox(url), RecordingGraph()
    [body] = outbound.text(CUSTOMER, "Hola Lucía, ya llegaron tus lentes")
    fallback = outbound.template(CUSTOMER, "faro_followup", "es", ["Lucía"])
    box.enqueue([body], purpose="relay", conversation_id=CUSTOMER, fallback=fallback)  # Lucía never wrote
    send_until(Sender(box, graph, Contacts(url), poll=0.02), settled(box))
    assert graph.calls == [fallback]
    assert box.rows()[0].status == "sent"


class UploadingGraph(RecordingGraph):
    """Also takes uploads (`async upload(content, mime_type, filename) -> media id`)."""

    def __init__(self) -> None:
        super().__init__()
        self.uploads: List[tuple] = []

    async def upload(self, content: bytes, mime_type: str, filename: Optional[str] = None) -> str:
        self.uploads.append((content, mime_type, filename))
        return f"upload.{len(self.uploads)}"


def test_kept_media_are_uploaded_once_and_sent_by_the_uploads_id(url):
    from posta.media import MediaStore

    box, graph, kept = Outbox(url), UploadingGraph(), MediaStore(url)
    photo = kept.save(CUSTOMER, "out", "image", "image/png", b"\x89PNG-bytes", source_id="from-ana-1")
    assert kept.save(CUSTOMER, "out", "image", "image/png", b"\x89PNG-bytes", source_id="from-ana-1") == photo
    Contacts(url).seen(CUSTOMER)
    bodies = outbound.kept_media(CUSTOMER, photo.as_dict(), "mirá") + outbound.kept_media(CUSTOMER, photo.as_dict())
    box.enqueue(bodies, purpose="relay", conversation_id=CUSTOMER)
    send_until(Sender(box, graph, Contacts(url), poll=0.02, media=kept), settled(box))
    assert graph.uploads == [(b"\x89PNG-bytes", "image/png", None)]  # once, for both messages
    assert [c["image"] for c in graph.calls] == [{"caption": "mirá", "id": "upload.1"}, {"id": "upload.1"}]
    assert kept.get(photo.id).uploaded_id == "upload.1"
