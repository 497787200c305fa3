"""The WhatsApp channel end to end: signed webhooks into the real Rasa server and action
server, replies out through the local fake of Meta's Graph API, customers and agents on
the one business number."""

import json
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest  # noqa: F401
import requests
import sqlalchemy as sa

from harness.phones import ANA, BRUNO, CARLA, Phone, case_of, shown, webhook
from harness.stack import VERIFY_TOKEN
from posta.db import utcnow
from posta.schema import inbox, outbox
from posta.whatsapp.inbound import Inbound, to_record
from posta.whatsapp.outbox import Outbox
from tests.conftest import AFTER_HOURS

PAYLOADS = Path(__file__).resolve().parents[1] / "data" / "whatsapp-payloads"


def tracker(stack, phone):
    return stack.tracker(phone.number)


# -- webhook contract -----------------------------------------------------------------------


def test_verification_answers_the_challenge_only_with_the_right_token(stack):
    url = f"{stack.url}/webhooks/whatsapp/webhook"
    ok = requests.get(
        url, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    wrong = requests.get(url, params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"})
    assert wrong.status_code == 403


def test_bad_signature_is_refused_and_nothing_is_stored(stack, cases, customer):
    message = customer.message("text", {"body": "hola"})
    body = json.dumps(webhook([message])).encode()
    assert stack.post_webhook(body, secret="not-the-secret").status_code == 403
    assert stack.post_webhook(body, signature="").status_code == 403
    assert stack.post_webhook(body, signature="sha256=" + "0" * 64).status_code == 403
    time.sleep(1.5)
    with cases.engine.connect() as conn:
        assert conn.execute(sa.select(inbox).where(inbox.c.message_id == message["id"])).first() is None
        user_events = conn.execute(
            sa.text("SELECT count(*) FROM events WHERE sender_id = :s AND type_name = 'user'"), {"s": customer.number}
        ).scalar()
    assert user_events == 0
    assert customer.delivered() == []


def test_malformed_body_is_a_400(stack):
    assert stack.post_webhook(b"{not json").status_code == 400
    assert stack.post_webhook(b"[1, 2]").status_code == 400
    assert stack.post_webhook({"object": "whatsapp_business_account"}).status_code == 400


def eventually(check, timeout: float, what: str):
    """`check()`'s value once it is truthy, polling; fails after `timeout` seconds."""
    deadline = time.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.2)


def test_every_conformance_payload_is_handled_without_an_error(stack, cases):
    before = len(stack.log().splitlines())
    run = uuid.uuid4().hex[:8]  # ids of this run's messages (the fuzz tests post these payloads too)
    posted, ids, phones = 0, [], set()
    for path in sorted(PAYLOADS.glob("*.json")):
        for name, body in json.loads(path.read_text()).items():
            for entry in body.get("entry", []):  # collected on other numbers: addressed to ours, so handled
                for change in entry.get("changes", []):
                    value = change["value"]
                    value.setdefault("metadata", {})["phone_number_id"] = stack.graph.phone_number_id
                    for key, phone in (("messages", "from"), ("message_echoes", "to")):
                        for message in value.get(key, []):
                            message["id"] = f"{message['id']}.{run}"
                            ids.append(message["id"])
                            phones.add(message[phone])
            response = stack.post_webhook(body)
            assert response.status_code == 200, (path.name, name, response.text)
            posted += 1
    assert posted >= 40 and len(ids) >= 30

    def rows():
        with cases.engine.connect() as conn:
            found = conn.execute(sa.select(inbox).where(inbox.c.message_id.in_(ids))).fetchall()
        return found if len(found) == len(set(ids)) and all(r.processed_at for r in found) else None

    handled = eventually(rows, 60, "every message of the payloads handled (the work after the 200)")
    assert [(r.message_id, r.error) for r in handled if r.error or r.attempts != 1] == []  # each in one try

    def replies_settled():
        with cases.engine.connect() as conn:
            statuses = conn.execute(
                sa.select(outbox.c.recipient, outbox.c.status, outbox.c.error).where(outbox.c.recipient.in_(phones))
            ).fetchall()
        return statuses if all(s.status in ("sent", "failed") for s in statuses) else None

    replies = eventually(replies_settled, 30, "every reply to the payloads' senders sent or given up")
    assert replies and [r for r in replies if r.status != "sent"] == []  # they were answered, all of it sent
    errors = [line for line in stack.log().splitlines()[before:] if " ERROR " in line or "Traceback" in line]
    assert errors == []


def test_duplicate_delivery_gives_one_reply(stack, customer):
    message = customer.message("text", {"body": "hola!"})
    customer.post(message)
    customer.post(message)  # Meta retries
    replies = customer.wait()
    assert "Óptica Mirada" in shown(replies[0])
    assert customer.quiet(2) == []
    user_turns = [e for e in tracker(stack, customer)["events"] if e["event"] == "user"]
    assert len(user_turns) == 1


def test_several_messages_in_one_post_are_handled_in_order(stack, customer):
    first, second = customer.message("text", {"body": "hola"}), customer.message("text", {"body": "donde estan?"})
    stack.post_webhook(webhook([first, second], contacts=[{"profile": {"name": "Lucía"}, "wa_id": customer.number}]))
    replies = customer.wait(count=2)
    assert "Óptica Mirada" in shown(replies[0]) and "Av. Corrientes 1850" in shown(replies[1])
    # The reply can reach the phone before Rasa saves the tracker: wait for the save.
    deadline, texts = time.monotonic() + 10, []
    while time.monotonic() < deadline and len(texts) < 2:
        texts = [e["text"] for e in tracker(stack, customer)["events"] if e["event"] == "user"]
        time.sleep(0.1)
    assert texts == ["hola", "donde estan?"]


# -- outbound -------------------------------------------------------------------------------


def test_four_options_become_a_list_and_every_body_is_within_limits(stack, customer):
    customer.text("que venden?")
    [overview] = customer.wait(lambda new: any(b["type"] == "interactive" for b in new))[-1:]
    assert overview["interactive"]["type"] == "list"
    rows = overview["interactive"]["action"]["sections"][0]["rows"]
    assert [r["title"] for r in rows] == ["Armazones", "Cristales", "Lentes de contacto", "Anteojos de sol"]
    customer.post(customer.message("interactive", {"type": "list_reply", "list_reply": rows[2]}))
    assert "caja mensual" in shown(customer.wait()[0])
    rejected = [r for r in stack.graph.attempts() if r.status == 400]
    assert rejected == []  # the fake checks every body against the documented limits


def test_a_500_from_meta_is_retried(stack, customer):
    stack.graph.fail_next(1, status=500)
    customer.text("aceptan mercado pago?")
    assert "Mercado Pago" in shown(customer.wait()[0])
    attempts = stack.graph.attempts(to=customer.number)
    assert [a.status for a in attempts] == [500, 200]


def test_a_send_that_keeps_failing_is_recorded_on_the_case(stack, cases, customer, ana):
    customer.text("quiero hablar con una persona")
    case = case_of(cases, customer)
    customer.wait()
    ana.wait_for_text(f"Tomar #{case.id}")
    ana.press(f"posta:take:{case.id}")
    ana.wait_for_text("Tomaste el caso")
    customer.wait_for_text("Una persona del equipo ya está con tu consulta")
    stack.graph.fail_next(1, status=400, code=131026)  # "message undeliverable": not worth retrying
    ana.text("te llamo en 5 minutos")
    ana.wait_for_text("No pude enviar")
    history = [e.kind for e in cases.history(case.id)]
    assert "send_failed" in history


def test_a_failed_delivery_status_is_surfaced(stack, cases, customer, ana):
    customer.text("necesito hablar con un asesor")
    case = case_of(cases, customer)
    customer.wait()
    wamid = next(r.wamid for r in stack.graph.attempts(to=customer.number) if r.accepted)
    status = {
        "id": wamid,
        "status": "failed",
        "timestamp": str(int(time.time())),
        "recipient_id": customer.number,
        "errors": [{"code": 131049, "title": "Message not delivered to maintain healthy ecosystem"}],
    }
    assert stack.post_webhook(webhook(statuses=[status])).status_code == 200
    deadline = time.time() + 10
    while "send_failed" not in [e.kind for e in cases.history(case.id)] and time.time() < deadline:
        time.sleep(0.1)
    notes = [e for e in cases.history(case.id) if e.kind == "send_failed"]
    assert notes and "131049" in notes[0].detail
    assert [r.error for r in Outbox(str(cases.engine.url)).rows(customer.number) if r.wamid == wamid][0]


# -- the five moments, with agents on their own WhatsApp -------------------------------------


def test_asked_for_a_person_relay_both_ways_and_handback(stack, cases, customer, ana):
    customer.text("hola")
    customer.wait()
    customer.text("quiero hablar con una persona")
    assert "Te paso con una persona" in shown(customer.wait()[0])
    case = case_of(cases, customer)
    assert (case.agent, case.channel, case.reason) == ("Ana", "whatsapp", "requested")

    notification = ana.wait_for_text(f"Tomar #{case.id}")
    summary = next(shown(b) for b in notification if "Caso #" in shown(b))
    assert "Cliente: Lucía" in summary and "2. quiero hablar con una persona" in summary
    ana.press(f"posta:take:{case.id}", f"Tomar #{case.id}")
    ana.wait_for_text("Tomaste el caso")

    assert "Una persona del equipo ya está con tu consulta" in shown(customer.wait()[0])  # told once taken
    ana.text("Hola Lucía, soy Ana. ¿En qué te ayudo?")
    assert shown(customer.wait()[0]) == "Hola Lucía, soy Ana. ¿En qué te ayudo?"
    customer.text("quiero saber si tienen multifocales varilux")
    assert "Lucía: quiero saber si tienen multifocales varilux" in shown(ana.wait()[0])
    assert customer.quiet(2) == []  # the bot does not talk over Ana

    ana.text("listo")
    assert "¿Hay algo más en lo que te pueda ayudar?" in shown(customer.wait()[0])
    ana.wait_for_text("devuelto al bot")
    closed = cases.get(case.id)
    assert closed.status == "closed" and closed.closed_by == "Ana" and closed.first_reply_at is not None

    events = tracker(stack, customer)["events"]
    agent_lines = [e["text"] for e in events if e["event"] == "bot" and (e.get("metadata") or {}).get("agent")]
    assert agent_lines == ["Hola Lucía, soy Ana. ¿En qué te ayudo?"]
    assert "quiero saber si tienen multifocales varilux" in [e.get("text") for e in events if e["event"] == "user"]
    assert not tracker(stack, customer)["paused"]


def test_sensitive_goes_to_support_and_a_closed_window_gets_the_template(stack, cases):
    customer = Phone(stack, name="Martín")
    customer.text("me arde mucho el ojo desde que uso las lentillas")
    reply = " ".join(shown(b) for b in customer.wait(count=2))
    assert "Te paso con" in reply and "guardia" in reply
    case = case_of(cases, customer)
    assert (case.reason, case.topic, case.team, case.agent, case.urgent) == (
        "sensitive",
        "health",
        "support",
        "Bruno",
        True,
    )
    bruno = Phone(stack, BRUNO, "Bruno")  # has never written to the business number

    def template_for_case(new):
        return [
            b
            for b in new
            if b["type"] == "template" and b["template"]["components"][0]["parameters"][0]["text"] == str(case.id)
        ]

    [template] = template_for_case(bruno.wait(lambda new: template_for_case(new)))
    assert template["template"]["name"] == "posta_new_case"
    params = [p["text"] for p in template["template"]["components"][0]["parameters"]]
    assert params == [str(case.id), "tema sensible", "Martín"]


def test_unreadable_media_hands_off_with_what_was_sent(stack, cases, customer):
    customer.post(customer.message("audio", {"mime_type": "audio/ogg; codecs=opus", "id": "MEDIA123", "voice": True}))
    assert "Te paso con" in shown(customer.wait()[0])
    case = case_of(cases, customer)
    assert case.reason == "unsure" and case.topic == "media"
    assert case.summary.messages[-1].media == {"type": "voice", "id": "MEDIA123", "mime_type": "audio/ogg; codecs=opus"}
    assert "1. [adjunto: voice] (id MEDIA123)" in case.summary.render("es")  # as tests/unit/test_summary.py


def test_after_hours_on_whatsapp_queues_and_tells_the_team(stack, cases, customer):
    with stack.clock(AFTER_HOURS):
        customer.text("quiero hablar con alguien")
        first = customer.wait_for_text("qué necesitás")  # the name comes with the WhatsApp profile
        assert "volvemos mañana a las 10:00" in shown(first[0])
        customer.text("consultar precio de multifocales")
        assert "¡Gracias, Lucía!" in shown(customer.wait()[0])
        case = case_of(cases, customer)
        assert case.status == "waiting" and case.after_hours and case.customer_name == "Lucía"
        notified = {r.recipient for r in Outbox(str(cases.engine.url)).rows() if r.case_id == case.id}
        assert notified == {ANA, CARLA}  # everyone on sales


def test_any_agent_can_take_over_a_chat_the_bot_did_not_escalate(stack, cases, customer, ana):
    customer.text("hola, cuanto salen los anteojos de sol?")
    customer.wait(count=1)
    ana.text(f"tomar {customer.number}")
    ana.wait_for_text("Tomaste el caso")
    case = case_of(cases, customer)
    assert (case.reason, case.agent, case.status) == ("agent_takeover", "Ana", "active")
    state = tracker(stack, customer)
    assert state["paused"] and state["slots"]["handoff_reason"] == "agent_takeover"
    customer.text("y tienen polarizados?")
    assert "y tienen polarizados?" in shown(ana.wait()[0])
    assert customer.quiet(2) == []


def test_a_message_typed_in_the_business_app_pauses_the_bot(stack, cases, customer):
    customer.text("hola")
    customer.wait()
    echo = {
        "from": "5491150000000",
        "to": customer.number,
        "id": f"wamid.ECHO{time.time_ns()}",
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": "Hola Lucía! Te escribo yo"},
    }
    assert stack.post_webhook(webhook(echoes=[echo], field="smb_message_echoes")).status_code == 200
    case = case_of(cases, customer)
    assert case.reason == "agent_takeover"
    customer.text("genial, gracias")
    assert customer.quiet(2) == []
    events = tracker(stack, customer)["events"]
    assert any(e["event"] == "bot" and e.get("text") == "Hola Lucía! Te escribo yo" for e in events)


def test_routing_to_the_queue_and_the_first_agent_who_takes_it(stack, cases, ana):
    carla = Phone(stack, CARLA, "Carla")
    fillers = [Phone(stack) for _ in range(3)]  # Ana takes three at most; Carla is off until 14:00
    for phone in fillers:
        phone.text("me pasas con un vendedor?")
        case_of(cases, phone)
    queued = Phone(stack, name="Juan")
    queued.text("quiero hablar con alguien de ventas")
    assert "todo el equipo está ocupado" in shown(queued.wait()[0])
    case = case_of(cases, queued)
    assert case.status == "waiting" and case.agent is None
    ana.wait_for_text(f"Caso #{case.id} en la fila de Ventas")
    carla.text(f"tomar {case.id}")
    carla.wait_for_text("Tomaste el caso")
    ana.text(f"tomar {case.id}")
    ana.wait_for_text("ya lo tiene Carla")
    assert cases.get(case.id).agent == "Carla"


def test_agent_commands_list_note_transfer_report_and_reply_to_pick_a_case(stack, cases, ana):
    first, second = Phone(stack, name="Uno"), Phone(stack, name="Dos")
    for phone in (first, second):
        phone.text("me pasas con una persona?")
    one, two = case_of(cases, first), case_of(cases, second)
    ana.wait(lambda new: sum("Tomar #" in shown(b) for b in new) >= 2)
    ana.press(f"posta:take:{one.id}")
    ana.wait_for_text("Tomaste el caso")
    ana.press(f"posta:take:{two.id}")
    ana.wait_for_text("Tomaste el caso")

    ana.text("casos")
    listing = shown(ana.wait()[0])
    assert f"#{one.id} Uno · consulta general\n" in listing
    assert f"#{two.id} Dos · consulta general ← activo\n" in listing

    offer_for_one = next(
        r.wamid for r in stack.graph.attempts(to=ANA) if r.accepted and f"Tomar #{one.id}" in shown(r.body)
    )
    ana.text("Hola Uno, te escribe Ana", reply_to=offer_for_one)
    assert shown(first.wait_for_text("te escribe Ana")[-1]) == "Hola Uno, te escribe Ana"

    ana.text("nota pidió factura A")
    ana.wait_for_text("Nota guardada")
    assert ("note", "pidió factura A") in [(e.kind, e.detail) for e in cases.history(one.id)]

    ana.text(f"transferir {two.id} a soporte")
    ana.wait_for_text("transferido a Atención al cliente")
    moved = cases.get(two.id)
    assert moved.team == "support" and moved.agent is None and moved.status == "waiting"

    ana.text("reporte")
    assert "Hoy:" in shown(ana.wait()[0])


# -- nothing lost, nothing doubled ------------------------------------------------------------


def _stall(cases, message_id):
    """Makes an inbox row look like a replica took it and died two minutes ago."""
    with cases.engine.begin() as conn:
        conn.execute(
            inbox.update()
            .where(inbox.c.message_id == message_id)
            .values(
                processed_at=None, claimed_by="a-dead-replica", claimed_at=utcnow() - timedelta(minutes=2), attempts=1
            )
        )


def test_a_message_a_dead_replica_left_unprocessed_is_processed(stack, cases, customer):
    message = customer.message("text", {"body": "donde queda el local?"})
    with cases.engine.begin() as conn:  # recorded and acknowledged, then the replica died
        conn.execute(
            inbox.insert().values(
                message_id=message["id"],
                sender=customer.number,
                kind="text",
                received_at=utcnow(),
                attempts=0,
                payload=json.dumps(
                    to_record(
                        Inbound(
                            id=message["id"],
                            sender=customer.number,
                            kind="text",
                            text="donde queda el local?",
                            name="Lucía",
                        )
                    )
                ),
            )
        )
    _stall(cases, message["id"])
    assert "Av. Corrientes 1850" in shown(customer.wait()[0])
    assert customer.quiet(1.5) == []


def _processed(cases, message_id):
    deadline = time.time() + 10
    while time.time() < deadline:
        with cases.engine.connect() as conn:
            row = conn.execute(sa.select(inbox).where(inbox.c.message_id == message_id)).first()
        if row.processed_at is not None:
            return row
        time.sleep(0.2)
    raise AssertionError(f"{message_id} was not processed")


def test_a_message_processed_again_after_a_crash_is_not_answered_twice(stack, cases, customer):
    message = customer.text("aceptan mercado pago?")
    assert "Mercado Pago" in shown(customer.wait()[0])
    _processed(cases, message["id"])  # the reply can leave before the row is marked processed
    _stall(cases, message["id"])  # as if the replica died before marking it processed
    row = _processed(cases, message["id"])
    assert row.attempts == 2
    assert customer.quiet(1.5) == []
    user_turns = [e for e in tracker(stack, customer)["events"] if e["event"] == "user"]
    assert len(user_turns) == 1
