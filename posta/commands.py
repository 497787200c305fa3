"""What a person asks the desk to do, as one table both doors use: agents' WhatsApp
messages (*tomar 12*, *listo*, a tap on a notification's button) and the team panel's
buttons. Each command's handler does it with the desk's operations and says, in the
person's language, what was done; a refusal is a `DeskError` that says why."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Awaitable, Callable, Dict, Optional

from posta import alerts, judgments, rasa_events, reports, texts
from posta.config import Agent
from posta.db import utcnow
from posta.desk import Desk, DeskError
from posta.media import Download
from posta.phones import mask_phone
from posta.states import CaseStatus, InboundKind
from posta.store import Case
from posta.whatsapp.inbound import Inbound

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Command:
    name: str  # a key of COMMANDS
    arg: Optional[str] = None  # text: a note, a reply, a transfer's target, a phone number
    case_id: Optional[int] = None  # None: the person's active case
    via: str = "whatsapp"  # or "panel": where the person asked


@dataclass(frozen=True)
class Done:
    """What the person is told, and the case it is about (a reply to it picks that case)."""

    text: str
    case: Optional[Case] = None


# -- WhatsApp words -----------------------------------------------------------------------

WORDS = {
    "take": ("tomar", "tomo", "take"),
    "pass": ("pasar", "paso", "pass"),
    "handback": ("listo", "devolver", "devolver al bot", "terminé", "termine", "done", "handback", "hand back"),
    "list": ("casos", "mis casos", "cola", "fila", "cases", "list", "queue"),
    "switch": ("cambiar", "caso", "switch", "case"),
    "report": ("reporte", "informe", "report"),
    "help": ("ayuda", "comandos", "help", "?"),
}
_ID = r"#?(\d+)"
_SIMPLE = {
    name: re.compile(rf"^/?(?:{'|'.join(map(re.escape, words))})(?:\s+{_ID})?\s*[.!]*$", re.IGNORECASE)
    for name, words in WORDS.items()
}
_NOTE = re.compile(r"^/?(?:nota|note)\s*:?\s+(.+)$", re.IGNORECASE | re.DOTALL)
_TRANSFER = re.compile(
    r"^/?(?:transferir|transfer|derivar|pasar|pass)(?:\s+#?(\d+))?\s+(?:a|al|to)\s+(.+?)\s*$", re.IGNORECASE
)
_BY_PHONE = {
    "take": re.compile(r"^/?(?:tomar|take)\s+\+?(\d{8,15})\s*$", re.IGNORECASE),  # any chat
    "erase": re.compile(r"^/?(?:borrar|erase)\s+\+?(\d{8,15})\s*$", re.IGNORECASE),  # admins
}


def parse_command(text: str) -> Optional[Command]:
    """A command when the whole message is one; anything else is a message for the customer.

    "listo" alone hands back; "Listo, ya te lo reservé" goes to the customer.
    """
    text = (text or "").strip()
    if text.startswith(alerts.BUTTON_PREFIX):  # "posta:take:12", "posta:judge:12:bot:hours"
        name, _, ref = text[len(alerts.BUTTON_PREFIX) :].partition(":")
        case_ref, _, arg = ref.partition(":")
        return Command(name, arg or None, case_id=_number(case_ref))
    match = _NOTE.match(text)
    if match:
        return Command("note", match.group(1).strip())
    match = _TRANSFER.match(text)
    if match:
        return Command("transfer", match.group(2), _number(match.group(1)))
    for name, pattern in _BY_PHONE.items():  # before the case ids: "tomar 5491155550123"
        match = pattern.match(text)
        if match:
            return Command(name, match.group(1))
    for name, pattern in _SIMPLE.items():
        match = pattern.match(text)
        if match:
            return Command(name, case_id=_number(match.group(1)))
    return None


async def agent_message(desk: Desk, agent: Agent, message: Inbound, download: Optional[Download] = None) -> None:
    """An agent's WhatsApp message: a command, or words (or a photo, a document...) for the
    customer of their case; `download` is the media's bytes, fetched by the channel."""
    text = message.text if message.kind in (InboundKind.TEXT, InboundKind.CHOICE) else ""
    command = parse_command(text) if text else None
    try:
        if command is None:
            replied = desk.outbox.case_for_message(message.context_id) if message.context_id else None
            if replied:  # replying to a case notification picks that case
                await desk.take(agent, replied)
            if message.kind in (InboundKind.MEDIA, InboundKind.REACTION):
                case = desk.own_case(agent, None)
                if message.kind == InboundKind.REACTION:
                    await desk.react(agent, case, message)
                else:
                    await desk.reply_media(agent, case, message, download, quote=desk.quoted(case, message))
                return
            if message.context_id:  # a reply to the copy of a customer's message quotes the original
                case = desk.own_case(agent, None)
                await desk.reply(agent, case, message.text, quote=desk.quoted(case, message))
                return
            command = Command("reply", message.text)
        done = await run(desk, agent, command)
        if done.text:
            alerts.tell(desk.outbox, agent, done.text, done.case)
        if command.name == "take" and done.case is not None:
            await _catch_up(desk, agent, done.case)
    except DeskError as refused:
        alerts.tell(desk.outbox, agent, refused.message(agent.language))


async def run(desk: Desk, agent: Agent, command: Command) -> Done:
    """Does `command` for `agent`; an unknown one answers with the help."""
    return await COMMANDS.get(command.name, _help)(desk, agent, command)


# -- the table ---------------------------------------------------------------------------

Handler = Callable[[Desk, Agent, Command], Awaitable[Done]]


async def _take(desk: Desk, agent: Agent, command: Command) -> Done:
    if command.arg:  # a phone number
        case = await desk.take_conversation(agent, command.arg)
    else:
        case_id = command.case_id or next(
            (c.id for c in desk.store.open_cases(agent=agent.name, status=CaseStatus.ASSIGNED)), None
        )
        if case_id is None:
            return await _list(desk, agent, command)
        case = await desk.take(agent, case_id)
    return Done(texts.desk("taken", agent.language, case=case.id, customer=case.who), case)


async def _reply(desk: Desk, agent: Agent, command: Command) -> Done:
    await desk.reply(agent, desk.own_case(agent, command.case_id), command.arg or "")
    return Done("")


async def _pass(desk: Desk, agent: Agent, command: Command) -> Done:
    case = await desk.pass_case(agent, desk.own_case(agent, command.case_id))
    return Done(texts.desk("passed", agent.language, case=case.id))


async def _transfer(desk: Desk, agent: Agent, command: Command) -> Done:
    case, who = await desk.transfer(agent, desk.own_case(agent, command.case_id), command.arg or "")
    return Done(texts.desk("transferred", agent.language, case=case.id, target=who))


async def _handback(desk: Desk, agent: Agent, command: Command) -> Done:
    case = desk.own_case(agent, command.case_id)
    await desk.hand_back(agent, case)
    if command.via == "whatsapp":  # the panel asks on the case's page
        judgments.ask(desk.outbox, agent, case)
    return Done(texts.desk("handed_back", agent.language, case=case.id))


async def _judge(desk: Desk, agent: Agent, command: Command) -> Done:
    """Was a person needed? An answer to the question asked at handback."""
    case = desk.store.get(command.case_id) if command.case_id else None
    said = judgments.record(desk.store, agent, case, command.arg or "") if case else None
    if said and command.arg == judgments.BOT and command.via == "whatsapp":
        judgments.ask_topic(desk.outbox, agent, case)  # with which answer?
    return Done(said or "")


async def _switch(desk: Desk, agent: Agent, command: Command) -> Done:
    case = desk.own_case(agent, command.case_id)
    desk.set_active(agent, case.id)
    return Done(texts.desk("switched", agent.language, case=case.id, customer=case.who), case)


async def _note(desk: Desk, agent: Agent, command: Command) -> Done:
    case = desk.own_case(agent, command.case_id)
    desk.note(agent, case, command.arg or "")
    return Done(texts.desk("noted", agent.language, case=case.id))


async def _list(desk: Desk, agent: Agent, command: Command) -> Done:
    lang, active = agent.language, desk.active_id(agent)
    mine = [
        f"#{c.id} {c.who} · {texts.topic_name(c.topic, lang)}"
        + (texts.desk("active_mark", lang) if c.id == active else "")
        for c in desk.store.open_cases(agent=agent.name)
    ]
    waiting = [
        f"#{c.id} {c.who} · {texts.topic_name(c.topic, lang)} · {_minutes(c.created_at)} min"
        for team in agent.teams
        for c in desk.store.open_cases(team=team, status=CaseStatus.WAITING)
    ]
    none = texts.desk("none", lang)
    return Done(
        "\n".join([texts.desk("mine", lang)] + (mine or [none]) + [texts.desk("queue", lang)] + (waiting or [none]))
    )


async def _erase(desk: Desk, agent: Agent, command: Command) -> Done:
    rows = desk.erase(agent, command.arg or "")
    return Done(texts.desk("erased", agent.language, customer=mask_phone(command.arg), rows=rows))


async def _report(desk: Desk, agent: Agent, command: Command) -> Done:
    return Done(reports.today_line(desk.store, desk.config, agent.language))


async def _typing(desk: Desk, agent: Agent, command: Command) -> Done:
    desk.typing(agent, desk.own_case(agent, command.case_id))
    return Done("")


async def _help(desk: Desk, agent: Agent, command: Command) -> Done:
    return Done(texts.desk("help", agent.language))


COMMANDS: Dict[str, Handler] = {
    "take": _take,
    "reply": _reply,
    "pass": _pass,
    "transfer": _transfer,
    "handback": _handback,
    "switch": _switch,
    "note": _note,
    "list": _list,
    "erase": _erase,
    "report": _report,
    "help": _help,
    "typing": _typing,  # the panel, while the agent types a reply
    "judge": _judge,  # a button after handback: was a person needed?
}
PANEL_ACTIONS = ("take", "reply", "note", "transfer", "handback", "typing", "judge")  # the panel's buttons


# -- helpers -----------------------------------------------------------------------------


async def _catch_up(desk: Desk, agent: Agent, case: Case) -> None:
    """On WhatsApp, after a take: what the customer wrote after the summary was made."""
    later = [
        e
        for e in rasa_events.load(desk.engine, case.conversation_id)
        if rasa_events.is_customer_message(e) and (e.get("timestamp") or 0) > case.created_at.timestamp()
    ]
    if later:
        lines = [texts.desk("waiting_messages", agent.language, customer=case.who)]
        alerts.tell(desk.outbox, agent, "\n".join(lines + [f"- {e.get('text')}" for e in later]), case)


def _number(arg: Optional[str]) -> Optional[int]:
    return int(arg) if arg and arg.isdigit() else None


def _minutes(since: datetime) -> int:
    return int((utcnow() - since).total_seconds() // 60)
