"""The help desk's operations on cases, the same for agents on WhatsApp and in the team
panel (`posta.commands` is how either asks): take, reply, note, pass, transfer, hand back;
and what reaches a person who owns a chat (the customer's messages, the business's own
phone typing).

Everything here is plain Python over the case store and the outbox. What needs the
conversation engine (pausing a tracker, resuming the bot so it follows up, logging an
agent's words in the customer's thread) goes through the `Conversations` protocol, which
`channels.rasa_conversations` implements.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Optional, Protocol, Sequence, Tuple

import sqlalchemy as sa

from posta import alerts, media, privacy, rasa_events, routing, texts
from posta import summary as summaries
from posta.config import Agent, BusinessConfig
from posta.hours import business_now
from posta.schema import agent_state
from posta.states import CaseEventKind, CaseStatus, InboundKind, Purpose, Reason
from posta.store import Case, CaseStore, CaseUnavailable
from posta.whatsapp import outbound
from posta.whatsapp.contacts import Contacts
from posta.whatsapp.inbound import Echo, Inbound
from posta.whatsapp.outbox import Outbox, Outgoing

logger = logging.getLogger(__name__)

BUSINESS_APP = "WhatsApp Business app"  # who typed an echo: a person on the business's own phone
TYPING_EVERY = 20  # seconds between typing indicators (WhatsApp shows one for about 25 s)


class Conversations(Protocol):
    """What the desk needs from the conversation engine."""

    async def take_over(self, conversation_id: str) -> None: ...  # pause the bot, reason agent_takeover

    async def resume_bot(self, conversation_id: str, agent: str) -> None: ...  # the bot closes the case, follows up

    async def log_agent_message(
        self,
        conversation_id: str,
        agent: str,
        text: str,
        media: Optional[Dict[str, Any]] = None,
        quote: Optional[str] = None,  # the customer's message it replies to
    ) -> None: ...

    async def say(self, conversation_id: str, response: str, **values: Any) -> None: ...  # a domain response


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

    def __init__(
        self,
        config: BusinessConfig,
        store: CaseStore,
        outbox: Outbox,
        contacts: Contacts,
        conversations: Conversations,
        kept: Optional[media.MediaStore] = None,
    ) -> None:
        self.config, self.store, self.outbox, self.contacts = config, store, outbox, contacts
        self.conversations = conversations
        self.engine = store.engine
        self.media = kept or media.MediaStore(outbox.url)

    # -- operations -------------------------------------------------------------------------

    def may_see(self, agent: Agent, case: Case) -> bool:
        """Admins see every case; agents their own and their teams' queue."""
        return (
            agent.is_admin
            or case.agent == agent.name
            or (case.status == CaseStatus.WAITING and case.team in agent.teams)
        )

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
            self.seen(agent, case)  # the summary showed them everything so far
            if self.config.tone == "named":
                await self.conversations.say(case.conversation_id, "utter_agent_intro", agent_name=agent.name)
            else:
                alerts.tell_customer(self.outbox, case, texts.customer("taken", case.language))
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

    async def reply(self, agent: Agent, case: Case, body: str, quote: Optional[str] = None) -> None:
        """Sends `body` to the customer from the business number (quoting their message
        `quote`, when the agent replied to its copy), and logs it in their thread."""
        body = body.strip()
        if body:
            bodies = outbound.quoting(outbound.text(case.conversation_id, body), quote)
            await self._to_customer(agent, case, bodies, body, quote=quote)

    def quoted(self, case: Case, message: Inbound) -> Optional[str]:
        """The customer's message an agent's reply or reaction is about, when the agent
        replied to (or reacted on) the copy Posta relayed to them."""
        return self.outbox.relayed_from(message.context_id, case.conversation_id)

    async def react(self, agent: Agent, case: Case, message: Inbound) -> None:
        """An agent's reaction on a relayed message lands on the customer's original."""
        original = self.quoted(case, message)
        if original:
            self.outbox.enqueue(
                outbound.reaction(case.conversation_id, original, message.text),
                purpose=Purpose.RELAY,
                conversation_id=case.conversation_id,
                case_id=case.id,
            )

    async def reply_media(
        self,
        agent: Agent,
        case: Case,
        message: Inbound,
        download: Optional[media.Download],
        quote: Optional[str] = None,
    ) -> None:
        """What an agent sent from their phone (a photo, a document, a voice note, a
        location, contact cards) reaches the customer as the same kind of message, kept with
        the conversation; what WhatsApp would refuse is refused here, saying why."""
        sent = dict(message.media or {})
        kind, customer = sent.get("type", "?"), case.conversation_id
        values = {"customer": case.who, "kind": texts.kind_name(kind, agent.language)}
        if kind in media.KINDS:
            if download is None:
                raise DeskError("media_missing", **values)
            trouble = media.problem(kind, download.mime_type, len(download.content))
            if trouble:
                raise DeskError(f"media_{trouble.pop('why')}", **{**trouble, **values})
            stored = self.media.save(
                customer,
                media.OUT,
                kind,
                download.mime_type,
                download.content,
                filename=sent.get("filename"),
                caption=sent.get("caption"),
                source_id=sent.get("id"),
            )
            sent = stored.as_dict()
            bodies = outbound.kept_media(customer, sent, sent.get("caption"))
        elif kind in ("location", "contacts"):
            bodies = [b for b in outbound.forward(customer, sent, "") if b["type"] != "text"]
        else:
            raise DeskError("media_kind", **values)
        await self._to_customer(
            agent, case, outbound.quoting(bodies, quote), texts.media_placeholder(sent, case.language), sent, quote
        )

    # -- the customer sees they are attended ------------------------------------------------
    # The policy: the customer's messages are marked read when the person who owns the chat
    # has seen them: when they take it (the summary has it all), when their phone reports
    # the relayed copy read, when the panel shows the case to them, and when they reply.

    def seen(self, agent: Agent, case: Case, message_id: Optional[str] = None, events=None) -> None:
        """Marks the customer's `message_id` (default: their latest, from `events` or the
        store) read, with the ones before."""
        if case.agent != agent.name or case.channel not in (None, "whatsapp") or not case.is_open:
            return
        events = rasa_events.load(self.engine, case.conversation_id) if events is None and not message_id else events
        message_id = message_id or rasa_events.latest_message_id(events)
        if message_id:
            self._receipt(case, outbound.read(message_id), key=f"read:{message_id}")

    def typing(self, agent: Agent, case: Case) -> None:
        """The typing indicator while the owner types in the panel: at most one call every
        TYPING_EVERY seconds (WhatsApp shows it about 25 s, or until the reply arrives)."""
        if case.agent != agent.name or case.channel not in (None, "whatsapp") or not case.is_open:
            return
        message_id = rasa_events.latest_message_id(rasa_events.load(self.engine, case.conversation_id))
        if message_id:
            slot = int(time.time() // TYPING_EVERY)
            self._receipt(case, outbound.read(message_id, typing=True), key=f"typing:{message_id}:{slot}")

    def copy_read(self, row: Outgoing) -> None:
        """An agent's phone read the copy of a customer's message: that message is read."""
        case = self.store.get(row.case_id) if row.case_id else None
        agent = self.config.agent_by_phone(row.recipient)
        original = self.outbox.relayed_from(row.wamid, case.conversation_id) if case and agent else None
        if original:
            self.seen(agent, case, original)

    def _receipt(self, case: Case, body: Dict[str, Any], key: str) -> None:
        self.outbox.enqueue(
            [body],
            purpose=Purpose.RECEIPT,
            recipient=case.conversation_id,
            conversation_id=case.conversation_id,
            case_id=case.id,
            key=key,
        )

    async def _to_customer(
        self,
        agent: Agent,
        case: Case,
        bodies: List[Dict[str, Any]],
        logged: str,
        sent_media: Optional[Dict[str, Any]] = None,
        quote: Optional[str] = None,
    ) -> None:
        if case.channel not in (None, "whatsapp"):
            raise DeskError("cannot_reach", channel=case.channel)
        self.seen(agent, case)  # they are answering what the customer wrote
        customer = case.conversation_id
        self.outbox.enqueue(
            bodies,
            purpose=Purpose.RELAY,
            conversation_id=customer,
            case_id=case.id,
            fallback=self._customer_template(case),
        )
        self.store.first_reply(case.id)
        await self.conversations.log_agent_message(customer, agent.name, logged, sent_media, quote)

    def note(self, agent: Agent, case: Case, body: str) -> None:
        self.store.record(case.id, CaseEventKind.NOTE, agent.name, body.strip())

    async def pass_case(self, agent: Agent, case: Case) -> Case:
        passed = {e.actor for e in self.store.history(case.id) if e.kind == CaseEventKind.PASSED} | {agent.name}
        now = business_now(self.config.timezone)
        chosen = routing.choose_agent(
            self.config,
            case.team,
            case.language,
            now,
            self.store.load_by_agent(),
            self.store.last_assignment_by_agent(),
            exclude=passed,
        )
        others = None if chosen else [a for a in self.config.agents if case.team in a.teams and a.name not in passed]
        moved = self._reroute(
            case, case.team, chosen.name if chosen else None, agent, CaseEventKind.PASSED, recipients=others
        )
        self.clear_active(agent, case.id)
        return moved

    def _reroute(
        self,
        case: Case,
        team: str,
        to: Optional[str],
        by: Agent,
        kind: CaseEventKind,
        recipients: Optional[Sequence[Agent]] = None,
    ) -> Case:
        return alerts.route_and_announce(
            self.config,
            self.store,
            self.outbox,
            self.contacts,
            case,
            team=team,
            agent=to,
            by=by.name,
            kind=kind,
            recipients=recipients,
        )

    def transfer_targets(self) -> List[str]:
        return [a.name for a in self.config.agents] + [t.name for t in self.config.teams.values()]

    async def transfer(self, agent: Agent, case: Case, target: str) -> Tuple[Case, str]:
        """To an agent by name, or to a team by key, name or alias; returns the case and who."""
        to_agent = self.config.agent_by_name(target)
        team = next((k for k, t in self.config.teams.items() if t.called(target)), None)
        if to_agent is None and team is None:
            raise DeskError("unknown_target", target=target, options=", ".join(self.transfer_targets()))
        team = team or (case.team if case.team in to_agent.teams else to_agent.teams[0])
        moved = self._reroute(case, team, to_agent.name if to_agent else None, agent, CaseEventKind.TRANSFERRED)
        self.clear_active(agent, case.id)
        return moved, to_agent.name if to_agent else self.config.teams[team].name

    async def hand_back(self, agent: Agent, case: Case) -> None:
        """The bot resumes: action_handback closes the case and follows up with the customer."""
        await self.conversations.resume_bot(case.conversation_id, agent.name)
        self.clear_active(agent, case.id)

    # -- messages from customers whose case a person owns ----------------------------------

    async def customer_message(self, case: Case, message: Inbound) -> None:
        agent = self.config.agent_by_name(case.agent) if case.agent else None
        if agent is None:
            return  # waiting in the queue, or owned from the WhatsApp Business app: logged only
        lang = agent.language
        # What the customer replied to or reacted on, in the agent's chat: their own message
        # that Posta relayed to the customer.
        quote = self.outbox.relayed_from(message.context_id, agent.phone)
        if message.kind == InboundKind.REACTION and quote:
            alerts.forward(self.outbox, agent, outbound.reaction(agent.phone, quote, message.text), case)
            return
        if message.kind == InboundKind.REACTION:
            line = texts.desk("reaction", lang, customer=case.who, text=message.text) if message.text else None
        elif message.kind == InboundKind.REVISION:
            kind = (message.media or {}).get("type")
            line = texts.desk(f"revision_{kind}", lang, customer=case.who, text=message.text)
        else:
            several = len(self.store.open_cases(agent=agent.name)) > 1
            line = texts.desk(
                "relay_case" if several else "relay",
                lang,
                case=case.id,
                customer=case.who,
                text=_describe(message, lang),
            )
            sent = message.media or {}
            forwarded = message.kind == InboundKind.MEDIA and media.forwardable(sent)
            if message.kind == InboundKind.MEDIA and not forwarded:
                self._too_big_to_forward(case, sent)
                line += texts.desk("media_in_panel", lang)
            # The photo itself, the location itself...
            bodies = outbound.forward(agent.phone, sent, line) if forwarded else outbound.text(agent.phone, line)
            alerts.forward(self.outbox, agent, outbound.quoting(bodies, quote), case)
            return
        if line:
            self._tell(agent, line, case)

    def _too_big_to_forward(self, case: Case, sent: Dict[str, Any]) -> None:
        """The customer hears that their file is kept but too large to pass on here."""
        trouble = media.problem(sent.get("type", ""), sent.get("mime_type", ""), int(sent.get("size") or 0)) or {}
        alerts.tell_customer(
            self.outbox, case, texts.customer("media_too_big", case.language, most_mb=trouble.get("most_mb", "?"))
        )

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
        alerts.surface_failure(self.config, self.store, self.outbox, row, error)

    # -- helpers --------------------------------------------------------------------------

    async def _take_over(self, conversation_id: str, by: str, events: Optional[List[Dict[str, Any]]] = None) -> Case:
        """Opens an `agent_takeover` case for a conversation the bot did not escalate."""
        events = rasa_events.load(self.engine, conversation_id) if events is None else events
        lang = rasa_events.language(events, self.config.default_language)
        summary = summaries.build(
            events,
            conversation_id=conversation_id,
            reason=Reason.AGENT_TAKEOVER,
            topic=summaries.latest_topic(events) or "general",
            language=lang,
            customer_name=self.contacts.name(conversation_id),
        )
        team = self.config.team_for_topic(summary.topic)
        case = self.store.open_case(summary, team=team, agent=by, channel="whatsapp", status=CaseStatus.ACTIVE)
        await self.conversations.take_over(conversation_id)
        return case

    def _team_name(self, team: Optional[str]) -> str:
        return self.config.teams[team].name if team in self.config.teams else str(team)

    def active_id(self, agent: Agent) -> Optional[int]:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(agent_state.c.active_case_id).where(agent_state.c.agent == agent.name)
            ).scalar()

    def active_case(self, agent: Agent) -> Optional[Case]:
        active = self.active_id(agent)
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
            if not conn.execute(
                agent_state.update().where(agent_state.c.agent == agent.name).values(active_case_id=case_id)
            ).rowcount:
                conn.execute(agent_state.insert().values(agent=agent.name, active_case_id=case_id))

    def clear_active(self, agent: Agent, case_id: int) -> None:
        if self.active_id(agent) == case_id:
            self.set_active(agent, None)

    def _tell(self, agent: Agent, body: str, case: Optional[Case] = None) -> None:
        alerts.tell(self.outbox, agent, body, case)

    def _customer_template(self, case: Case) -> Optional[Dict[str, Any]]:
        return outbound.configured_template(
            self.config.whatsapp_templates,
            "customer_followup",
            case.conversation_id,
            case.language,
            [case.customer_name or ""],
        )


def _describe(message: Inbound, lang: str) -> str:
    if message.kind != InboundKind.MEDIA:
        return message.title or message.text
    return texts.media_placeholder(message.media or {"type": "?"}, lang, with_id=True)
