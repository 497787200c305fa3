"""The five moments through Rasa's REST channel, with the real servers and database."""

import sqlalchemy as sa

from harness.stack import texts
from tests.conftest import AFTER_HOURS


def slots(tracker):
    return tracker["slots"]


def assert_handed_off(stack, cases, sender, reason, topic=None):
    tracker = stack.tracker(sender)
    assert tracker["paused"], "the bot must step aside"
    assert slots(tracker)["handoff_reason"] == reason
    case = cases.open_case_for(sender)
    assert case is not None and case.reason == reason
    if topic:
        assert case.topic == topic
    return case


def test_faq_in_spanish_then_english(stack, sender):
    assert "Soy el asistente de Óptica Mirada" in texts(stack.say(sender, "hola buenas"))
    hours = texts(stack.say(sender, "a que hora abren el sabado?"))
    assert "Lunes a viernes 10:00–19:00; sábado 10:00–14:00; domingo cerrado" in hours
    assert "Ahora estamos abiertos" in hours
    english = texts(stack.say(sender, "do you accept credit cards? can I pay in instalments"))
    assert "interest-free instalments" in english
    assert slots(stack.tracker(sender))["language"] == "en"
    assert not stack.tracker(sender)["paused"]


def test_catalogue_answers_the_product_asked_about(stack, sender):
    assert "multifocales de $150.000 a $400.000" in texts(stack.say(sender, "cuanto salen los multifocales?"))
    overview = stack.say(sender, "what do you sell?")
    assert [b["title"] for b in overview[0]["buttons"]] == ["Frames", "Lenses", "Contact lenses", "Sunglasses"]
    assert "UV400" in texts(stack.say(sender, overview[0]["buttons"][3]["payload"]))


def test_asked_for_a_person_pause_relay_log_and_handback(stack, cases, sender):
    reply = texts(stack.say(sender, "quiero hablar con una persona", customer_name="Lucía"))
    assert "Te paso con una persona de nuestro equipo" in reply
    case = assert_handed_off(stack, cases, sender, "requested", "general")
    assert (case.team, case.agent, case.status) == ("sales", "Ana", "assigned")
    assert case.summary.customer_name == "Lucía"

    # While a person owns the chat the bot says nothing, but every message is kept.
    assert stack.say(sender, "hola? sigue alguien ahi") == []
    tracker = stack.tracker(sender)
    assert tracker["latest_message"]["text"] == "hola? sigue alguien ahi"
    assert tracker["paused"]

    follow_up = texts(stack.hand_back(sender, agent="Ana"))
    assert "¿Hay algo más en lo que te pueda ayudar?" in follow_up
    tracker = stack.tracker(sender)
    assert not tracker["paused"] and slots(tracker)["handoff_reason"] is None
    closed = cases.get(case.id)
    assert closed.status == "closed" and closed.closed_by == "Ana" and closed.closed_at > closed.created_at
    # The bot is back.
    assert "Av. Corrientes 1850" in texts(stack.say(sender, "donde estan ubicados?"))


def test_requested_mid_flow_keeps_the_topic(stack, cases, sender):
    first = texts(stack.say(sender, "como saco turno para un control de la vista?"))
    assert "¿Querés que alguien del equipo te reserve un turno?" in first
    stack.say(sender, "no, mejor pasame con alguien del local")
    case = assert_handed_off(stack, cases, sender, "requested", "eye_exam")
    assert case.summary.answered == ["eye_exam"]


def test_accepting_the_offer_of_a_person_is_a_request(stack, cases, sender):
    stack.say(sender, "how do I book an eye test?")
    assert "I'm passing you to a person" in texts(stack.say(sender, "yes please"))
    assert_handed_off(stack, cases, sender, "requested", "eye_exam")


def test_sensitive_health_is_urgent_routed_to_support_with_a_safety_note(stack, cases, sender):
    reply = texts(stack.say(sender, "my left eye has been red and burning since I started the new contacts"))
    assert "I'm passing you to a person" in reply
    assert "eye emergency" in reply
    case = assert_handed_off(stack, cases, sender, "sensitive", "health")
    assert case.urgent and case.team == "support"
    assert case.summary.messages[0].text.startswith("my left eye has been red")
    assert slots(stack.tracker(sender))["language"] == "en"


def test_sensitive_topics_in_spanish(stack, cases):
    for text, topic in [
        ("quiero devolver los anteojos que compre el martes, no me gustaron", "return"),
        ("me cobraron dos veces la compra con tarjeta", "billing"),
        ("si no me solucionan esto los denuncio en defensa del consumidor", "legal"),
        ("pesima atencion, hace 20 dias que espero y nadie me responde", "complaint"),
    ]:
        sender = stack.new_sender()
        assert "Te paso con" in texts(stack.say(sender, text))
        assert_handed_off(stack, cases, sender, "sensitive", topic)
        cases.close(sender, by="Bruno")  # he takes two at a time


def test_when_everyone_is_busy_the_case_waits_in_the_team_queue(stack, cases):
    for _ in range(2):  # Bruno, alone on support until 14:00, takes two cases at most
        stack.say(stack.new_sender(), "me cobraron dos veces la compra")
    sender = stack.new_sender()
    reply = texts(stack.say(sender, "los lentes nuevos me dan dolor de cabeza"))
    assert "todo el equipo está ocupado" in reply and "Tu caso es el número 1 de la fila" in reply
    case = assert_handed_off(stack, cases, sender, "sensitive", "health")
    assert case.status == "waiting" and case.agent is None and case.team == "support"
    behind = texts(stack.say(stack.new_sender(), "quiero hacer un reclamo formal por la atención"))
    assert "Tu caso es el número 2 de la fila" in behind  # told its own place, not "first in line"


def test_unsure_out_of_scope_and_unreadable(stack, cases):
    sender = stack.new_sender()
    assert "Te paso con" in texts(stack.say(sender, "venden audifonos para la sordera?"))
    assert_handed_off(stack, cases, sender, "unsure")
    sender = stack.new_sender()
    stack.say(sender, "qwpeoiru zxmcnv")
    assert_handed_off(stack, cases, sender, "unsure")


def test_summary_is_built_from_the_conversation(stack, cases, sender):
    stack.say(sender, "hola", customer_name="Martín")
    stack.say(sender, "cuanto salen los lentes de contacto?")
    stack.say(sender, "mi pedido 4512 todavia no llego y lo pedi el 15/11")
    case = cases.open_case_for(sender)
    assert case.reason == "unsure" and case.topic == "order"
    summary = case.summary
    assert [m.text for m in summary.messages] == [
        "hola",
        "cuanto salen los lentes de contacto?",
        "mi pedido 4512 todavia no llego y lo pedi el 15/11",
    ]
    assert summary.answered == ["catalogue"]
    assert {("order_number", "4512"), ("date", "15/11"), ("product", "contact_lenses")} <= {
        (f["kind"], f["value"]) for f in summary.facts
    }
    assert summary.customer_name == "Martín" and summary.language == "es"
    text = summary.render("es", case.id)
    assert "Cliente: Martín" in text and "3. mi pedido 4512" in text


def test_tracker_and_cases_share_one_database(stack, cases, sender):
    stack.say(sender, "hola")
    with cases.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}).scalar()
    assert rows > 0


def test_a_new_session_keeps_a_paused_conversation_paused(stack, cases, sender):
    stack.say(sender, "necesito hablar con un asesor")
    import requests

    response = requests.post(
        stack.api(f"/conversations/{sender}/execute"), json={"name": "action_session_start"}, timeout=30
    )
    response.raise_for_status()
    assert stack.tracker(sender)["paused"]
    assert stack.say(sender, "hola?") == []


def test_after_hours_captures_name_and_request_and_says_when_the_team_is_back(stack, cases):
    with stack.clock(AFTER_HOURS):
        sender = stack.new_sender()
        first = texts(stack.say(sender, "quiero hablar con alguien"))
        assert "Ahora estamos cerrados (volvemos mañana a las 10:00)" in first
        assert "¿Cómo es tu nombre?" in first
        assert "qué necesitás" in texts(stack.say(sender, "me llamo lucia"))
        last = texts(stack.say(sender, "saber si tienen varilux y cuanto salen"))
        assert "¡Gracias, Lucia!" in last and "volvemos mañana a las 10:00" in last
        case = assert_handed_off(stack, cases, sender, "requested")
        assert case.status == "waiting" and case.agent is None and case.after_hours
        assert case.customer_name == "Lucia"
        assert case.summary.messages[-1].text == "saber si tienen varilux y cuanto salen"

        # Sensitive and the name known from the channel: nothing to ask.
        sender = stack.new_sender()
        reply = texts(stack.say(sender, "I was charged twice for my glasses", customer_name="John"))
        assert "Thanks, John! I've left your request with the team" in reply
        assert "we're back tomorrow at 10:00" in reply
        assert_handed_off(stack, cases, sender, "sensitive", "billing")

        # FAQs are still answered after hours.
        sender = stack.new_sender()
        hours = texts(stack.say(sender, "what time do you open tomorrow?"))
        assert "We're closed now; we open again tomorrow at 10:00" in hours


def test_a_long_conversation_rolls_over_but_keeps_its_state_and_its_history(stack, cases, sender):
    from posta import rasa_events

    questions = ["where is the store?", "do you take credit cards?", "how much is shipping?"]
    for n in range(45):
        assert stack.say(sender, questions[n % 3]), n
    stored = rasa_events.load(cases.engine, sender)
    assert any(e["event"] == "session_started" and (e.get("metadata") or {}).get("posta_rollover") for e in stored), (
        "the tracker store did not roll the session over"
    )
    assert slots(stack.tracker(sender))["language"] == "en"
    assert "I'm passing you to a person" in texts(stack.say(sender, "ok, can I talk to a human?"))
    case = assert_handed_off(stack, cases, sender, "requested", "shipping")
    assert len(case.summary.messages) == 46  # including every message from before the rollover


def test_what_a_person_must_handle_is_never_answered_by_the_bot(stack, cases):
    """The kinds of message the issue found answered (paraphrased anew): an indirect
    complaint about a product, a refund asked as a question, keyboard noise, and a question
    in the business's words about something it never mentions."""
    for text, reason in (
        ("los marcos que me vendieron vinieron todos doblados", "sensitive"),
        ("me podrian devolver la plata de los anteojos?", "sensitive"),
        ("asdkj qwpe", "unsure"),
        ("con que obras sociales trabajan para los controles?", "unsure"),
    ):
        sender = stack.new_sender()
        replies = texts(stack.say(sender, text))
        assert stack.tracker(sender)["paused"], (text, replies)
        case = cases.open_case_for(sender)
        assert case is not None and case.reason == reason, (text, case and case.reason)
