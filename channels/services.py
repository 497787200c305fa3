"""What the WhatsApp channel and the team panel share inside one Rasa server process: the
case store, the outbox and one desk."""

from __future__ import annotations

from dataclasses import dataclass
from posta import config as posta_config
from posta.config import BusinessConfig
from posta.desk import Desk
from posta.store import CaseStore
from posta.whatsapp.contacts import Contacts, Inbox
from posta.whatsapp.outbox import Outbox


@dataclass
class Services:
    config: BusinessConfig
    store: CaseStore
    outbox: Outbox
    contacts: Contacts
    inbox: Inbox
    desk: Desk


def services(app) -> Services:
    """The process's services, made on first use (the Rasa agent must be loaded by then)."""
    if not hasattr(app.ctx, "posta"):
        from channels.action_endpoint import be_patient
        from channels.whatsapp import RasaConversations, WhatsAppOutput

        be_patient(app.ctx.agent)

        store, outbox, contacts = CaseStore(), Outbox(), Contacts()
        config = posta_config.current()
        desk = Desk(config, store, outbox, contacts, RasaConversations(app, WhatsAppOutput(outbox)))
        app.ctx.posta = Services(config, store, outbox, contacts, Inbox(), desk)
    return app.ctx.posta
