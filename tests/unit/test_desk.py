"""The desk with an in-memory stand-in for Rasa: commands, relays, tone."""

import asyncio
import dataclasses

import pytest

from posta.commands import Command, agent_message, parse_command
from posta.desk import Desk
from posta.schema import case_events, cases
from posta.schema import outbox as outbox_table
from posta.store import CaseStore
from posta.summary import CaseSummary, CustomerMessage
from posta.whatsapp.contacts import Contacts
from posta.whatsapp.inbound import Inbound
from posta.whatsapp.outbox import Outbox
from tests.unit.conftest import EVA


class FakeConversations:
    def __init__(self):
        self.calls = []

    async def take_over(self, conversation_id):
        self.calls.append(("take_over", conversation_id))

    async def resume_bot(self, conversation_id, agent):
        self.calls.append(("resume_bot", conversation_id, agent))

    async def log_agent_message(self, conversation_id, agent, text, media=None, quote=None):
        self.calls.append(("log", conversation_id, agent, text))

    async def say(self, conversation_id, response, **values):
        self.calls.append(("say", conversation_id, response, values))


@pytest.fixture
def desk(database_url, business):
    store = CaseStore(database_url)
    with store.engine.begin() as conn:
        for table in (case_events, cases, outbox_table):
            conn.execute(table.delete())
    return Desk(business, store, Outbox(database_url), Contacts(database_url), FakeConversations())


def run(coroutine):
    return asyncio.run(coroutine)


def sent_to(desk, phone):
    return [r.body.get("text", {}).get("body", "") for r in desk.outbox.rows(phone)]


def open_case(desk, conversation="5491100000001", agent="Eva"):
    summary = CaseSummary(
        conversation_id=conversation,
        reason="requested",
        topic="general",
        language="es",
        customer_name="Lucía",
        messages=[CustomerMessage("quiero hablar con alguien")],
    )
    return desk.store.open_case(summary, team="sales", agent=agent, channel="whatsapp")


def message(text, sender=EVA, context=None):
    return Inbound(id="wamid.x", sender=sender, kind="text", text=text, context_id=context)


def test_take_relay_and_hand_back(desk):
    case = open_case(desk)
    eva = desk.config.agent_by_name("Eva")
    run(agent_message(desk, eva, message(f"tomar {case.id}")))
    assert desk.store.get(case.id).status == "active"
    run(agent_message(desk, eva, message("Hola Lucía!")))
    assert sent_to(desk, case.conversation_id) == [
        "Una persona del equipo ya está con tu consulta y te escribe por acá.",
        "Hola Lucía!",
    ]
    assert ("log", case.conversation_id, "Eva", "Hola Lucía!") in desk.conversations.calls
    assert desk.store.get(case.id).first_reply_at is not None
    run(agent_message(desk, eva, message("listo")))
    assert ("resume_bot", case.conversation_id, "Eva") in desk.conversations.calls


def test_named_tone_introduces_the_agent_on_take(desk):
    desk.config = dataclasses.replace(desk.config, tone="named")
    case = open_case(desk)
    run(agent_message(desk, desk.config.agent_by_name("Eva"), message(f"tomar {case.id}")))
    assert ("say", case.conversation_id, "utter_agent_intro", {"agent_name": "Eva"}) in desk.conversations.calls


def test_a_message_with_no_active_case_gets_help_not_lost(desk):
    eva = desk.config.agent_by_name("Eva")
    run(agent_message(desk, eva, message("hola, alguien?")))
    assert "No tenés un caso activo" in sent_to(desk, eva.phone)[-1]


def test_pass_moves_the_case_to_someone_else_or_the_queue(desk):
    case = open_case(desk, agent="Eva")
    run(agent_message(desk, desk.config.agent_by_name("Eva"), message(f"posta:pass:{case.id}")))
    moved = desk.store.get(case.id)
    assert moved.agent != "Eva" and moved.is_open
    assert "passed" in [e.kind for e in desk.store.history(case.id)]


def test_commands_are_whole_messages():
    assert parse_command("listo").name == "handback"
    assert parse_command("done").name == "handback"
    assert parse_command("Listo, ya te lo reservé") is None
    assert parse_command("tomar 12").case_id == 12
    assert parse_command("take +5491155550123").arg == "5491155550123"
    assert parse_command("tomar 5491155550123").arg == "5491155550123"  # a phone, not case 5491155550123
    assert parse_command("transfer 12 to support") == Command("transfer", "support", 12)
    assert parse_command("posta:pass:7") == Command("pass", case_id=7)
    assert parse_command("nota: pagó en efectivo").arg == "pagó en efectivo"
