from zoneinfo import ZoneInfo

from posta import summary

T0 = 1795_000_000.0  # an arbitrary instant; only the order and the first one matter


def user(text, intent, t, **metadata):
    return {
        "event": "user",
        "text": text,
        "timestamp": t,
        "metadata": metadata,
        "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "entities": []},
    }


def bot(text, action, t):
    return {"event": "bot", "text": text, "timestamp": t, "metadata": {"utter_action": action}}


def conversation():
    return [
        {"event": "action", "name": "action_session_start", "timestamp": T0 - 100},
        {"event": "session_started", "timestamp": T0 - 100},
        user("hola", "greet", T0, customer_name="Lucía"),
        bot("¡Hola! Soy el asistente...", "utter_greet", T0 + 1),
        user("cuanto salen los cascos?", "ask_catalogue", T0 + 10),
        bot("Cascos desde...", "utter_catalogue_helmets", T0 + 11),
        user("y el pedido 4512 que hice el martes? me cobraron $45.000", "order_status", T0 + 20),
    ]


def test_summary_keeps_every_customer_message_verbatim_and_in_order():
    built = summary.build(
        conversation(), conversation_id="5491100000000", reason="unsure", topic="order", language="es"
    )
    assert [m.text for m in built.messages] == [
        "hola",
        "cuanto salen los cascos?",
        "y el pedido 4512 que hice el martes? me cobraron $45.000",
    ]
    assert built.customer_name == "Lucía"  # from channel metadata
    assert built.answered == ["catalogue"]  # the greeting is not an answer worth listing
    kinds = {(f["kind"], f["value"]) for f in built.facts}
    assert {("order_number", "4512"), ("product", "helmets"), ("date", "el martes"), ("amount", "$45.000")} <= kinds
    assert built.started_at.startswith("2026-")
    assert not built.urgent


def test_summary_starts_after_the_last_handback():
    events = conversation() + [
        {"event": "action", "name": "action_handoff"},
        user("hola??", "greet", T0 + 30),
        {"event": "action", "name": "action_handback"},
        user("me caí de la bici", "injury_report", T0 + 40),
    ]
    built = summary.build(events, conversation_id="c", reason="sensitive", topic="injury", language="es")
    assert [m.text for m in built.messages] == ["me caí de la bici"]
    assert built.urgent


def test_external_and_button_messages():
    events = [
        user("EXTERNAL: handback", "handback", T0, is_external=True),
        user('/ask_catalogue{"product": "helmets"}', "ask_catalogue", T0 + 1),
    ]
    built = summary.build(events, conversation_id="c", reason="requested", topic="general", language="en")
    assert [m.text for m in built.messages] == ["ask catalogue"]


def test_rendering_in_the_agents_language_is_short_and_complete():
    built = summary.build(
        conversation(), conversation_id="5491100000000", reason="unsure", topic="order", language="es"
    )
    text = built.render("en", case_id=7, tz=ZoneInfo("America/Argentina/Buenos_Aires"))
    lines = text.splitlines()
    assert lines[0] == "Case #7 · the bot could not answer · order status"
    assert "Customer: Lucía (5491100000000) · Spanish" in text
    assert "3. y el pedido 4512 que hice el martes? me cobraron $45.000" in text
    assert "The bot already answered: bikes and prices" in text
    assert len(text) < 600  # a phone screen
    spanish = built.render("es", case_id=7)
    assert "Motivo" not in spanish and "el bot no supo responder" in spanish


def test_media_messages_show_type_id_and_caption():
    events = [
        dict(user("", "nlu_fallback", T0), metadata={"media": {"type": "audio", "id": "MEDIA1"}}),
        dict(
            user("mirá la receta", "nlu_fallback", T0 + 1),
            metadata={"media": {"type": "image", "id": "MEDIA2", "caption": "mirá la receta"}},
        ),
    ]
    built = summary.build(events, conversation_id="c", reason="unsure", topic="media", language="es")
    rendered = built.render("es")
    assert "1. [adjunto: audio] (id MEDIA1)" in rendered  # the same form the agent gets relayed
    assert "2. [adjunto: image] mirá la receta (id MEDIA2)" in rendered


def test_round_trip_through_dict():
    built = summary.build(conversation(), conversation_id="c", reason="unsure", topic="order", language="es")
    assert summary.CaseSummary.from_dict(built.as_dict()) == built


def test_a_rollover_is_not_a_new_conversation():
    events = conversation() + [
        {"event": "session_started", "timestamp": T0 + 30, "metadata": {"posta_rollover": True}},
        user("quiero hablar con alguien", "request_human", T0 + 40),
    ]
    built = summary.build(events, conversation_id="c", reason="requested", topic="order", language="es")
    assert len(built.messages) == 4  # the messages before the rollover still count


def test_the_whole_conversation_joins_stored_history_and_the_tracker():
    from posta import rasa_events

    stored = conversation()
    current = [
        {"event": "session_started", "timestamp": T0 + 30, "metadata": {"posta_rollover": True}},
        user("y ahora?", "greet", T0 + 40),
    ]
    assert not rasa_events.rolled_over(stored) and rasa_events.rolled_over(current)
    joined = rasa_events.with_history(stored + current[:1], current)  # the stored copy of the rollover is not repeated
    assert [e.get("text") for e in joined if e["event"] == "user"][-2:] == [
        "y el pedido 4512 que hice el martes? me cobraron $45.000",
        "y ahora?",
    ]
    assert sum(1 for e in joined if e["event"] == "session_started") == 2
