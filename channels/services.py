"""What the WhatsApp channel and the team panel share inside one Rasa server process: the
case store, the outbox and one desk, made when the server has started (its agent loaded)."""

from __future__ import annotations

from dataclasses import dataclass

from channels import guard
from channels.action_endpoint import be_patient
from channels.rasa_conversations import RasaConversations, WhatsAppOutput
from posta import config as posta_config
from posta.config import BusinessConfig
from posta.desk import Desk
from posta.store import CaseStore
from posta.whatsapp.contacts import Contacts
from posta.whatsapp.inbox import Inbox
from posta.whatsapp.outbox import Outbox


@dataclass
class Services:
    config: BusinessConfig
    store: CaseStore
    outbox: Outbox
    contacts: Contacts
    inbox: Inbox
    desk: Desk


def attach(blueprint) -> None:
    """What every Posta channel's blueprint sets up on the server that serves it: the guard
    before it starts; once it has started, patient action calls and the services. Register
    it before the blueprint's own listeners, which use the services."""
    guard.attach(blueprint)
    blueprint.listener("after_server_start")(lambda app, _loop: start(app))


def start(app) -> Services:
    """Makes the process's services once (idempotent: both channels call it)."""
    if not hasattr(app.ctx, "posta"):
        be_patient(app.ctx.agent)
        store, outbox, contacts = CaseStore(), Outbox(), Contacts()
        config = posta_config.current()
        desk = Desk(config, store, outbox, contacts, RasaConversations(app, WhatsAppOutput(outbox)))
        app.ctx.posta = Services(config, store, outbox, contacts, Inbox(), desk)
    return app.ctx.posta


def services(app) -> Services:
    return app.ctx.posta
