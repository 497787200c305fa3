"""The help desk on WhatsApp: agents take, answer, pass, transfer and hand back cases from
their own phones, through the business number.

Everything here is plain Python over the case store and the outbox. What needs the
conversation engine (pausing a tracker, handing back so the bot follows up, logging an
agent's words in the customer's thread) goes through the `Conversations` protocol, which
the Rasa channel implements.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Optional, Protocol, Sequence, Tuple

import sqlalchemy as sa

from posta import privacy, rasa_events, reports, routing, texts
from posta import summary as summaries
from posta.config import Agent, BusinessConfig
from posta.db import utcnow
from posta.hours import business_now
from posta.phones import mask_phone
from posta.schema import agent_state
from posta.states import CaseEventKind, CaseStatus, InboundKind, Purpose, Reason
from posta.store import Case, CaseStore, CaseUnavailable
from posta.whatsapp import outbound
from posta.whatsapp.contacts import Contacts
from posta.whatsapp.inbound import Echo, Inbound
from posta.whatsapp.outbox import Outbox, Outgoing

logger = logging.getLogger(__name__)

BUTTON_PREFIX = "posta:"
BUSINESS_APP = "WhatsApp Business app"  # who typed an echo: a person on the business's own phone



class Conversations(Protocol):
    """What the desk needs from the conversation engine."""

    async def take_over(self, conversation_id: str) -> None: ...  # pause the bot, reason agent_takeover

    async def hand_back(self, conversation_id: str, agent: str) -> None: ...  # resume; the bot follows up

    async def log_agent_message(self, conversation_id: str, agent: str, text: str) -> None: ...

    async def say(self, conversation_id: str, response: str, **values: Any) -> None: ...  # a domain response


# -- commands ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Command:
    name: str  # take, pass, handback, list, switch, note, transfer, report, help
    arg: Optional[str] = None


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
_SIMPLE = {name: re.compile(rf"^/?(?:{'|'.join(map(re.escape, words))})(?:\s+{_ID})?\s*[.!]*$", re.IGNORECASE)
           for name, words in WORDS.items()}
_NOTE = re.compile(r"^/?(?:nota|note)\s*:?\s+(.+)$", re.IGNORECASE | re.DOTALL)
_TRANSFER = re.compile(r"^/?(?:transferir|transfer|derivar|pasar|pass)(?:\s+#?(\d+))?\s+(?:a|al|to)\s+(.+?)\s*$",
                       re.IGNORECASE)


def parse_command(text: str) -> Optional[Command]:
    """A command when the whole message is one; anything else is a message for the customer.

    "listo" alone hands back; "Listo, ya te lo reservé" goes to the customer.
    """
    text = (text or "").strip()
    if text.startswith(BUTTON_PREFIX):
        name, _, arg = text[len(BUTTON_PREFIX):].partition(":")
        return Command(name, arg or None)
    match = _NOTE.match(text)
    if match:
        return Command("note", match.group(1).strip())
    match = _TRANSFER.match(text)
    if match:
        return Command("transfer", f"{match.group(1) or ''}:{match.group(2)}")
    for name, pattern in _SIMPLE.items():
        match = pattern.match(text)
        if match:
            return Command(name, match.group(1))
    match = re.match(r"^/?(?:tomar|take)\s+\+?(\d{8,15})\s*$", text, re.IGNORECASE)  # any chat, by phone
    if match:
        return Command("take", match.group(1))
    match = re.match(r"^/?(?:borrar|erase)\s+\+?(\d{8,15})\s*$", text, re.IGNORECASE)  # admins
    if match:
        return Command("erase", match.group(1))
    return None


# -- notifications (also used by the action server) ------------------------------------

def announce(config: BusinessConfig, outbox: Outbox, contacts: Contacts, case: Case,
             recipients: Optional[Sequence[Agent]] = None) -> None:
    """Tells the routed agent, or everyone on the team when the case waits in the queue,
    with the summary and take/pass buttons (or the template when their window is closed)."""
    if recipients is None:
        agent = config.agent_by_name(case.agent) if case.agent else None
        recipients = [agent] if agent else [a for a in config.agents if case.team in a.teams]
    template = config.whatsapp_templates.get("agent_new_case")
    routed = (case.assigned_at or case.created_at).isoformat()
    for agent in recipients:
        key = f"notify:{case.id}:{routed}:{agent.phone}"  # once per agent and routing
        lang = agent.language
        fallback = outbound.template(agent.phone, template["name"], template.get("language", lang), [
            str(case.id), texts.label("reason_" + case.reason, lang), case.customer_name or case.conversation_id,
        ]) if template else None
        if fallback and not contacts.window_open(agent.phone):
            outbox.enqueue([fallback], purpose=Purpose.NOTIFY, conversation_id=case.conversation_id, case_id=case.id,
                           key=key)
            continue
        offer = texts.desk("offer" if case.agent == agent.name else "offer_queue", lang, case=case.id,
                           team=config.teams[case.team].name if case.team in config.teams else case.team)
        buttons = [(f"{BUTTON_PREFIX}take:{case.id}", texts.desk("take", lang, case=case.id))]
        if case.agent == agent.name:
            buttons.append((f"{BUTTON_PREFIX}pass:{case.id}", texts.desk("pass", lang)))
        bodies = outbound.text(agent.phone, case.summary.render(lang, case.id, config.timezone))
        bodies += outbound.choices(agent.phone, offer, buttons, lang)
        outbox.enqueue(bodies, purpose=Purpose.NOTIFY, conversation_id=case.conversation_id, case_id=case.id,
                       fallback=fallback, key=key)


# -- the desk ----------------------------------------------------------------------------

class DeskError(Exception):
    """An operation a person asked for that cannot be done; `message(lang)` says why."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key, self.values = key, values

    def message(self, lang: str) -> str:
        return texts.desk(self.key, lang, **self.values)


class Desk:
    """Operations on cases for people (`take`, `reply`, `note`, `pass_case`, `transfer`,
    `hand_back`), shared by agents on WhatsApp (`agent_message`) and the team panel."""

    def __init__(self, config: BusinessConfig, store: CaseStore, outbox: Outbox, contacts: Contacts,
                 conversations: Conversations) -> None:
        self.config, self.store, self.outbox, self.contacts = config, store, outbox, contacts
        self.conversations = conversations
        self.engine = store.engine

    # -- operations -------------------------------------------------------------------------

    def may_see(self, agent: Agent, case: Case) -> bool:
        """Admins see every case; agents their own and their teams' queue."""
        return agent.is_admin or case.agent == agent.name or (case.status == CaseStatus.WAITING and case.team in agent.teams)

    def check_may_take(self, agent: Agent, case: Case) -> None:
        """The one rule for taking, on WhatsApp and in the panel: an agent takes a case
        routed to them or waiting in one of their teams' queues; an admin any case nobody
        else is on. (Another agent's case moves by *pasar* or *transferir*.)"""
        if case.status not in (CaseStatus.WAITING, CaseStatus.ASSIGNED):
            return  # closed, or someone is on it: the store refuses and says who
        routed_to_them = case.agent == agent.name
        in_their_queue = case.status == CaseStatus.WAITING and case.team in agent.teams
        if not (agent.is_admin or routed_to_them or in_their_queue):
            raise DeskError("not_yours_to_take", case=case.id, owner=case.agent or self._team_name(case.team))

    def own_case(self, agent: Agent, case_id: Optional[int]) -> Case:
        """The open case `agent` may act on (their active one when no id is given)."""
        if case_id is None:
            case = self.active_case(agent)
            if case is None:
                raise DeskError("no_active")
            return case
        case = self.store.get(case_id)
        if case is None:
            raise DeskError("no_case", case=case_id)
        if not case.is_open:
            raise DeskError("closed", case=case.id)
        if case.agent != agent.name and not agent.is_admin:
            raise DeskError("not_yours", case=case.id)
        return case

    async def take(self, agent: Agent, case_id: int) -> Case:
        before = self.store.get(case_id)
        if before is None:
            raise DeskError("no_case", case=case_id)
        self.check_may_take(agent, before)
        try:
            case = self.store.take(case_id, agent.name)
        except CaseUnavailable as refused:
            if refused.case is None:
                raise DeskError("no_case", case=case_id) from None
            if refused.case.is_open:
                raise DeskError("taken_by_other", case=case_id, agent=refused.case.agent) from None
            raise DeskError("closed", case=case_id) from None
        self.set_active(agent, case.id)
        if before.status != CaseStatus.ACTIVE and case.channel in (None, "whatsapp"):  # a person is on it now
            if self.config.tone == "named":
                await self.conversations.say(case.conversation_id, "utter_agent_intro", agent_name=agent.name)
            else:
                self.outbox.enqueue(outbound.text(case.conversation_id, texts.customer("taken", case.language)),
                                    purpose=Purpose.RELAY, conversation_id=case.conversation_id, case_id=case.id)
        return case

    def erase(self, agent: Agent, conversation_id: str) -> int:
        """Everything about one customer, gone (admins only); returns the rows deleted."""
        if not agent.is_admin:
            raise DeskError("admins_only")
        return sum(privacy.erase(self.engine, conversation_id).values())

    async def take_conversation(self, agent: Agent, conversation_id: str) -> Case:
        """A conversation by phone, even one the bot did not escalate (`agent_takeover`):
        its case by the rule above, or, with no case, if its topic is one of the agent's
        teams' (admins: any)."""
        case = self.store.open_case_for(conversation_id)
        if case is None:
            events = rasa_events.load(self.engine, conversation_id)
            team = self.config.team_for_topic(summaries.latest_topic(events) or "general")
            if not agent.is_admin and team not in agent.teams:
                raise DeskError("not_your_team", team=self._team_name(team))
            case = await self._take_over(conversation_id, agent.name, events)
        return await self.take(agent, case.id)

    async def reply(self, agent: Agent, case: Case, body: str) -> None:
        """Sends `body` to the customer from the business number, and logs it in their thread."""
        body = body.strip()
        if not body:
            return
        if case.channel not in (None, "whatsapp"):
            raise DeskError("cannot_reach", channel=case.channel)
        customer = case.conversation_id
        self.outbox.enqueue(outbound.text(customer, body), purpose=Purpose.RELAY, conversation_id=customer,
                            case_id=case.id, fallback=self._customer_template(case))
        self.store.first_reply(case.id)
        await self.conversations.log_agent_message(customer, agent.name, body)

    def note(self, agent: Agent, case: Case, body: str) -> None:
        self.store.record(case.id, CaseEventKind.NOTE, agent.name, body.strip())

    async def pass_case(self, agent: Agent, case: Case) -> Case:
        passed = {e.actor for e in self.store.history(case.id) if e.kind == CaseEventKind.PASSED} | {agent.name}
        now = business_now(self.config.timezone)
        chosen = routing.choose_agent(self.config, case.team, case.language, now, self.store.load_by_agent(),
                                      self.store.last_assignment_by_agent(), exclude=passed)
        moved = self.store.reassign(case.id, team=case.team, agent=chosen.name if chosen else None,
                                    by=agent.name, kind=CaseEventKind.PASSED)
        self.clear_active(agent, case.id)
        announce(self.config, self.outbox, self.contacts, moved,
                 None if chosen else [a for a in self.config.agents if moved.team in a.teams and a.name not in passed])
        return moved

    def transfer_targets(self) -> List[str]:
        return [a.name for a in self.config.agents] + [t.name for t in self.config.teams.values()]

    async def transfer(self, agent: Agent, case: Case, target: str) -> Tuple[Case, str]:
        """To an agent by name, or to a team by key, name or alias; returns the case and who."""
        to_agent = self.config.agent_by_name(target)
        team = next((k for k, t in self.config.teams.items() if t.called(target)), None)
        if to_agent is None and team is None:
            raise DeskError("unknown_target", target=target, options=", ".join(self.transfer_targets()))
        team = team or (case.team if case.team in to_agent.teams else to_agent.teams[0])
        moved = self.store.reassign(case.id, team=team, agent=to_agent.name if to_agent else None,
                                    by=agent.name, kind=CaseEventKind.TRANSFERRED)
        self.clear_active(agent, case.id)
        announce(self.config, self.outbox, self.contacts, moved)
        return moved, to_agent.name if to_agent else self.config.teams[team].name

    async def hand_back(self, agent: Agent, case: Case) -> None:
        """The bot resumes: action_handback closes the case and follows up with the customer."""
        await self.conversations.hand_back(case.conversation_id, agent.name)
        self.clear_active(agent, case.id)

    # -- messages from agents on WhatsApp ----------------------------------------------------

    async def agent_message(self, agent: Agent, message: Inbound) -> None:
        text = message.text if message.kind in (InboundKind.TEXT, InboundKind.CHOICE) else ""
        command = parse_command(text) if text else None
        try:
            if command:
                handler = getattr(self, f"_cmd_{command.name}", self._cmd_help)
                await handler(agent, command.arg)
                return
            replied = self.outbox.case_for_message(message.context_id) if message.context_id else None
            if replied:  # replying to a case notification picks that case
                await self.take(agent, replied)
            await self.reply(agent, self.own_case(agent, None), _agent_text(agent, message))
        except DeskError as refused:
            self._tell(agent, refused.message(agent.language))

    async def _cmd_take(self, agent: Agent, arg: Optional[str]) -> None:
        if arg and len(arg) >= 8:  # a phone number
            case = await self.take_conversation(agent, arg)
        else:
            case_id = int(arg) if arg else next(
                (c.id for c in self.store.open_cases(agent=agent.name, status=CaseStatus.ASSIGNED)), None)
            if case_id is None:
                return await self._cmd_list(agent, None)
            case = await self.take(agent, case_id)
        self._tell(agent, texts.desk("taken", agent.language, case=case.id, customer=_who(case)), case)
        await self._catch_up(agent, case)

    async def _catch_up(self, agent: Agent, case: Case) -> None:
        """What the customer wrote after the summary was made."""
        later = [e for e in rasa_events.load(self.engine, case.conversation_id)
                 if rasa_events.is_customer_message(e) and (e.get("timestamp") or 0) > case.created_at.timestamp()]
        if later:
            lines = [texts.desk("waiting_messages", agent.language, customer=_who(case))]
            self._tell(agent, "\n".join(lines + [f"- {e.get('text')}" for e in later]), case)

    async def _cmd_pass(self, agent: Agent, arg: Optional[str]) -> None:
        case = await self.pass_case(agent, self.own_case(agent, _number(arg)))
        self._tell(agent, texts.desk("passed", agent.language, case=case.id))

    async def _cmd_transfer(self, agent: Agent, arg: Optional[str]) -> None:
        case_ref, _, target = (arg or "").partition(":")
        case, who = await self.transfer(agent, self.own_case(agent, _number(case_ref)), target)
        self._tell(agent, texts.desk("transferred", agent.language, case=case.id, target=who))

    async def _cmd_handback(self, agent: Agent, arg: Optional[str]) -> None:
        case = self.own_case(agent, _number(arg))
        await self.hand_back(agent, case)
        self._tell(agent, texts.desk("handed_back", agent.language, case=case.id))

    async def _cmd_switch(self, agent: Agent, arg: Optional[str]) -> None:
        case = self.own_case(agent, _number(arg))
        self.set_active(agent, case.id)
        self._tell(agent, texts.desk("switched", agent.language, case=case.id, customer=_who(case)), case)

    async def _cmd_note(self, agent: Agent, arg: Optional[str]) -> None:
        case = self.own_case(agent, None)
        self.note(agent, case, arg or "")
        self._tell(agent, texts.desk("noted", agent.language, case=case.id))

    async def _cmd_list(self, agent: Agent, arg: Optional[str]) -> None:
        lang, active = agent.language, self._active_id(agent)
        mine = [f"#{c.id} {_who(c)} · {texts.topic_name(c.topic, lang)}"
                + (texts.desk("active_mark", lang) if c.id == active else "")
                for c in self.store.open_cases(agent=agent.name)]
        waiting = [f"#{c.id} {_who(c)} · {texts.topic_name(c.topic, lang)} · {_minutes(c.created_at)} min"
                   for team in agent.teams for c in self.store.open_cases(team=team, status=CaseStatus.WAITING)]
        none = texts.desk("none", lang)
        self._tell(agent, "\n".join([texts.desk("mine", lang)] + (mine or [none]) +
                                    [texts.desk("queue", lang)] + (waiting or [none])))

    async def _cmd_erase(self, agent: Agent, arg: Optional[str]) -> None:
        rows = self.erase(agent, arg)
        self._tell(agent, texts.desk("erased", agent.language, customer=mask_phone(arg), rows=rows))

    async def _cmd_report(self, agent: Agent, arg: Optional[str]) -> None:
        self._tell(agent, reports.today_line(self.store, self.config, agent.language))

    async def _cmd_help(self, agent: Agent, arg: Optional[str]) -> None:
        self._tell(agent, texts.desk("help", agent.language))

    # -- messages from customers whose case a person owns ----------------------------------

    async def customer_message(self, case: Case, message: Inbound) -> None:
        agent = self.config.agent_by_name(case.agent) if case.agent else None
        if agent is None:
            return  # waiting in the queue, or owned from the WhatsApp Business app: logged only
        lang = agent.language
        if message.kind == InboundKind.REACTION:
            line = texts.desk("reaction", lang, customer=_who(case), text=message.text) if message.text else None
        elif message.kind == InboundKind.REVISION:
            kind = (message.media or {}).get("type")
            line = texts.desk(f"revision_{kind}", lang, customer=_who(case), text=message.text)
        else:
            several = len(self.store.open_cases(agent=agent.name)) > 1
            line = texts.desk("relay_case" if several else "relay", lang, case=case.id, customer=_who(case),
                              text=_describe(message, lang))
        if line:
            self._tell(agent, line, case)

    # -- the business typing in the WhatsApp Business app (coexistence) ------------------

    async def business_echo(self, echo: Echo) -> None:
        case = self.store.open_case_for(echo.customer)
        if case is None:
            case = await self._take_over(echo.customer, BUSINESS_APP)
        if echo.kind != InboundKind.REVISION and echo.text:
            self.store.first_reply(case.id)
            await self.conversations.log_agent_message(echo.customer, BUSINESS_APP, echo.text)

    # -- sending problems, surfaced where a person sees them ------------------------------

    async def send_failed(self, row: Outgoing, error: str) -> None:
        surface_failure(self.config, self.store, self.outbox, row, error)

    # -- helpers --------------------------------------------------------------------------

    async def _take_over(self, conversation_id: str, by: str, events: Optional[List[Dict[str, Any]]] = None) -> Case:
        """Opens an `agent_takeover` case for a conversation the bot did not escalate."""
        events = rasa_events.load(self.engine, conversation_id) if events is None else events
        lang = next((e.get("value") for e in reversed(events) if e.get("event") == "slot"
                     and e.get("name") == "language" and e.get("value")), self.config.default_language)
        summary = summaries.build(events, conversation_id=conversation_id, reason=Reason.AGENT_TAKEOVER,
                                  topic=summaries.latest_topic(events) or "general", language=lang,
                                  customer_name=self.contacts.name(conversation_id))
        team = self.config.team_for_topic(summary.topic)
        case = self.store.open_case(summary, team=team, agent=by, channel="whatsapp", status=CaseStatus.ACTIVE)
        await self.conversations.take_over(conversation_id)
        return case

    def _team_name(self, team: Optional[str]) -> str:
        return self.config.teams[team].name if team in self.config.teams else str(team)

    def _active_id(self, agent: Agent) -> Optional[int]:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(agent_state.c.active_case_id).where(agent_state.c.agent == agent.name)).scalar()

    def active_case(self, agent: Agent) -> Optional[Case]:
        active = self._active_id(agent)
        case = self.store.get(active) if active else None
        if case is not None and case.is_open and case.agent == agent.name:
            return case
        taken = self.store.open_cases(agent=agent.name, status=CaseStatus.ACTIVE)
        if len(taken) == 1:  # the only case they have: no need to switch to it first
            self.set_active(agent, taken[0].id)
            return taken[0]
        return None

    def set_active(self, agent: Agent, case_id: Optional[int]) -> None:
        with self.engine.begin() as conn:
            if not conn.execute(agent_state.update().where(agent_state.c.agent == agent.name).values(
                    active_case_id=case_id)).rowcount:
                conn.execute(agent_state.insert().values(agent=agent.name, active_case_id=case_id))

    def clear_active(self, agent: Agent, case_id: int) -> None:
        if self._active_id(agent) == case_id:
            self.set_active(agent, None)

    def _tell(self, agent: Agent, body: str, case: Optional[Case] = None) -> None:
        tell(self.outbox, agent, body, case)

    def _customer_template(self, case: Case) -> Optional[Dict[str, Any]]:
        template = self.config.whatsapp_templates.get("customer_followup")
        if not template:
            return None
        return outbound.template(case.conversation_id, template["name"], template.get("language", case.language),
                                 [case.customer_name or ""])


def tell(outbox: Outbox, agent: Agent, body: str, case: Optional[Case] = None) -> None:
    """A message for an agent's phone, from the business number."""
    outbox.enqueue(outbound.text(agent.phone, body), purpose=Purpose.INFO,
                   conversation_id=case.conversation_id if case else None, case_id=case.id if case else None)


def surface_failure(config: BusinessConfig, store: CaseStore, outbox: Outbox, row: Outgoing, error: str) -> None:
    """A message that could not be sent: a note on its case, and a word to the agent on it."""
    case = store.get(row.case_id) if row.case_id else (
        store.latest_case_for(row.conversation_id) if row.conversation_id else None)
    if case is None:
        return
    store.record(case.id, CaseEventKind.SEND_FAILED, None, {"to": row.recipient, "purpose": row.purpose, "error": error})
    agent = config.agent_by_name(case.agent) if case.agent else None
    if agent and row.recipient != agent.phone and case.is_open:
        tell(outbox, agent, texts.desk("send_failed", agent.language, customer=_who(case), case=case.id,
                                       error=error), case)


def _who(case: Case) -> str:
    return case.customer_name or case.conversation_id


def _number(arg: Optional[str]) -> Optional[int]:
    return int(arg) if arg and arg.isdigit() else None


def _agent_text(agent: Agent, message: Inbound) -> str:
    if message.kind != InboundKind.MEDIA:
        return message.text
    logger.info("agent %s sent %s; relayed as a placeholder", agent.name, message.media.get("type"))
    return f"[{message.media.get('type')}] {message.text}".strip()


def _describe(message: Inbound, lang: str) -> str:
    if message.kind != InboundKind.MEDIA:
        return message.title or message.text
    return texts.media_placeholder(message.media or {"type": "?"}, lang, with_id=True)


def _minutes(since: datetime) -> int:
    return int((utcnow() - since).total_seconds() // 60)
