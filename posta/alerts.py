"""What agents are told on their own WhatsApp, from the business number: a case routed to
them or waiting in their queue (with the summary and buttons), a word about their case, a
message that could not be sent. Re-routing a case and telling its new people are one step
(`route_and_announce`), so no caller can move a case and forget to say so."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from posta import media, texts
from posta.config import Agent, BusinessConfig
from posta.states import CaseEventKind, Purpose
from posta.store import Case, CaseStore
from posta.whatsapp import outbound
from posta.whatsapp.contacts import Contacts
from posta.whatsapp.outbox import Outbox, Outgoing

BUTTON_PREFIX = "posta:"  # a tap on a notification's button: "posta:take:12"


def announce(
    config: BusinessConfig, outbox: Outbox, contacts: Contacts, case: Case, recipients: Optional[Sequence[Agent]] = None
) -> None:
    """Tells the routed agent, or everyone on the team when the case waits in the queue,
    with the summary and take/pass buttons (or the template when their window is closed)."""
    if recipients is None:
        agent = config.agent_by_name(case.agent) if case.agent else None
        recipients = [agent] if agent else [a for a in config.agents if case.team in a.teams]
    routed = (case.assigned_at or case.created_at).isoformat()
    for agent in recipients:
        key = f"notify:{case.id}:{routed}:{agent.phone}"  # once per agent and routing
        lang = agent.language
        fallback = outbound.configured_template(
            config.whatsapp_templates,
            "agent_new_case",
            agent.phone,
            lang,
            [str(case.id), texts.label("reason_" + case.reason, lang), case.who],
        )
        if fallback and not contacts.window_open(agent.phone):
            outbox.enqueue(
                [fallback], purpose=Purpose.NOTIFY, conversation_id=case.conversation_id, case_id=case.id, key=key
            )
            continue
        offer = texts.desk(
            "offer" if case.agent == agent.name else "offer_queue",
            lang,
            case=case.id,
            team=config.teams[case.team].name if case.team in config.teams else case.team,
        )
        buttons = [(f"{BUTTON_PREFIX}take:{case.id}", texts.desk("take", lang, case=case.id))]
        if case.agent == agent.name:
            buttons.append((f"{BUTTON_PREFIX}pass:{case.id}", texts.desk("pass", lang)))
        bodies = outbound.text(agent.phone, case.summary.render(lang, case.id, config.timezone))
        bodies += _media_of(agent.phone, case, lang)
        bodies += outbound.choices(agent.phone, offer, buttons, lang)
        outbox.enqueue(
            bodies,
            purpose=Purpose.NOTIFY,
            conversation_id=case.conversation_id,
            case_id=case.id,
            fallback=fallback,
            key=key,
        )


def route_and_announce(
    config: BusinessConfig,
    store: CaseStore,
    outbox: Outbox,
    contacts: Contacts,
    case: Case,
    *,
    team: str,
    agent: Optional[str],
    by: Optional[str],
    kind: CaseEventKind,
    recipients: Optional[Sequence[Agent]] = None,
) -> Case:
    """Moves an open case to `agent`, or to `team`'s queue, and tells whoever must know
    (`recipients` instead of the team when given)."""
    moved = store.reassign(case.id, team=team, agent=agent, by=by, kind=kind)
    announce(config, outbox, contacts, moved, recipients)
    return moved


def tell(outbox: Outbox, agent: Agent, body: str, case: Optional[Case] = None) -> None:
    """A message for an agent's phone, from the business number."""
    forward(outbox, agent, outbound.text(agent.phone, body), case)


def tell_customer(outbox: Outbox, case: Case, line: str, key: Optional[str] = None) -> None:
    """Words from the business to the customer of a case (the desk's, not the bot's)."""
    outbox.enqueue(
        outbound.text(case.conversation_id, line),
        purpose=Purpose.RELAY,
        conversation_id=case.conversation_id,
        case_id=case.id,
        key=key,
    )


def forward(outbox: Outbox, agent: Agent, bodies: List[Dict[str, Any]], case: Optional[Case] = None) -> None:
    """Messages for an agent's phone (a customer's photo with its caption, say)."""
    outbox.enqueue(
        bodies,
        purpose=Purpose.INFO,
        conversation_id=case.conversation_id if case else None,
        case_id=case.id if case else None,
    )


def surface_failure(config: BusinessConfig, store: CaseStore, outbox: Outbox, row: Outgoing, error: str) -> None:
    """A message that could not be sent: a note on its case, and a word to the agent on it."""
    case = (
        store.get(row.case_id)
        if row.case_id
        else (store.latest_case_for(row.conversation_id) if row.conversation_id else None)
    )
    if case is None:
        return
    detail: Any = {"to": row.recipient, "purpose": row.purpose, "error": error}
    store.record(case.id, CaseEventKind.SEND_FAILED, None, detail)
    agent = config.agent_by_name(case.agent) if case.agent else None
    if agent and row.recipient != agent.phone and case.is_open:
        tell(
            outbox, agent, texts.desk("send_failed", agent.language, customer=case.who, case=case.id, error=error), case
        )


def _media_of(to: str, case: Case, lang: str) -> List[Dict[str, Any]]:
    """The photos, voice notes, locations... the customer sent before the case was opened,
    forwarded after the summary that lists them."""
    return [
        body
        for message in case.summary.messages
        if message.media and media.forwardable(message.media)  # what is not stays in the panel
        for body in outbound.forward(
            to,
            message.media,
            texts.desk("relay", lang, customer=case.who, text=texts.media_placeholder(message.media, lang)),
        )
        if body["type"] != "text"  # the summary already says it
    ]
