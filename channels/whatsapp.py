"""The WhatsApp Cloud API channel: customers and agents on one business number.

A thin adapter between Rasa and the core. The webhook checks the signature, parses the
body (`posta.whatsapp.inbound`), records each message id (a repeat delivery is dropped)
and answers 200 at once; the work happens after, in order per phone:

- an agent's phone goes to the desk (`posta.desk`): commands, or a message relayed to the
  customer of their active case;
- a customer's message goes to Rasa as words (a leading "/" is not an intent shortcut, a
  button is its payload only if the bot offered it); if a person owns the conversation it
  is only logged in the thread, never answered, and the desk relays it to that person;
- statuses update the outbox; a failed one is surfaced on the case;
- echoes (the business typing in the WhatsApp Business app) pause the bot for that customer.

Everything sent goes through the outbox (`posta.whatsapp.outbox`), which the outbox
worker (`python -m posta.whatsapp.worker`, its own process) sends. `RasaConversations` gives the desk what only Rasa can do: pause, hand back,
log an agent's words in the customer's thread, render a domain response.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from dataclasses import replace
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import services as posta_services
from channels.rasa_conversations import WhatsAppOutput
from channels.services import Services, services
from posta import commands, media, rasa_events, ratings, web
from posta import config as posta_config
from posta.claims import WorkLoop
from posta.desk import Desk
from posta.phones import mask_phone
from posta.states import InboundKind, Purpose
from posta.whatsapp import inbound
from posta.whatsapp.graph import GraphClient, GraphError
from posta.whatsapp.inbound import Inbound, Status
from posta.whatsapp.inbox import STALE_CLAIM, Received
from posta.whatsapp.outbox import handling
from posta.whatsapp.settings import WhatsAppSettings

logger = logging.getLogger(__name__)

PROCESSING_AT_ONCE = 2
INBOX_POLL = 0.5
MAX_BODY = 3 * 1024 * 1024  # Meta's webhook payloads are at most 3 MB
DOWNLOAD_TRIES = 3  # a media URL that expired before the download is asked for again
# Rasa reads text starting with "/" as an intent shortcut ("/restart"); an invisible word
# joiner in front keeps a customer's text what it is, words.
WORD_JOINER = "\u2060"


class WhatsAppInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WhatsAppInput":
        return cls(WhatsAppSettings.load(credentials))

    def __init__(self, settings: WhatsAppSettings) -> None:
        self.settings = settings
        self.config = posta_config.current()
        self.services: Optional[Services] = None  # set when the server starts
        self.app = None
        self._foreign: set = set()  # other business numbers' ids already logged
        self.worker = f"{os.getpid()}-{uuid.uuid4().hex[:16]}"  # claims say which process holds them
        self.inbox_loop = WorkLoop("WhatsApp inbox", INBOX_POLL, at_once=PROCESSING_AT_ONCE)
        self._tasks: set = set()
        self.graph = GraphClient(settings.graph)  # media downloads; sending is the outbox worker's
        if not settings.app_secret:
            logger.warning("WhatsApp channel: no app secret (WHATSAPP_APP_SECRET); every webhook POST is refused")

    @property
    def desk(self) -> Desk:
        return self.services.desk

    def get_output_channel(self) -> OutputChannel:
        return WhatsAppOutput(self.services.outbox)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        whatsapp = Blueprint("whatsapp_webhook", __name__)
        posta_services.attach(whatsapp)

        @whatsapp.listener("after_server_start")
        async def start(app, _loop) -> None:
            self.app, self.services = app, services(app)
            self._spawn(self._process_inbox(on_new_message))

        @whatsapp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            """The server's readiness: 200 once the model is loaded and messages are processed."""
            if self.services is None:
                return response.json({"status": "starting"}, status=503)
            return response.json({"status": "ok"})

        @whatsapp.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            args = request.args
            if args.get("hub.mode") == "subscribe" and web.same_secret(
                args.get("hub.verify_token"), self.settings.verify_token
            ):
                return response.text(args.get("hub.challenge", ""))
            return response.text("verification failed", status=403)

        @whatsapp.route("/webhook", methods=["POST"], stream=True)
        async def webhook(request: Request) -> HTTPResponse:
            try:  # read here, so a body too big for a webhook is refused before it is read and hashed
                request.stream.request_max_size = MAX_BODY
                await request.receive_body()
            except PayloadTooLarge:
                logger.warning("WhatsApp webhook: a body over %d bytes; refused", MAX_BODY)
                return response.json({"error": f"body over {MAX_BODY} bytes"}, status=413)
            body = request.body or b""
            if not inbound.signature_is_valid(
                body, request.headers.get("X-Hub-Signature-256"), self.settings.app_secret
            ):
                logger.warning("WhatsApp webhook: signature missing or wrong; refused")
                return response.json({"error": "invalid signature"}, status=403)
            try:
                payload = json.loads(body)
                updates = inbound.parse(payload, self.settings.phone_number_id)
            except (ValueError, inbound.PayloadError) as error:
                return response.json({"error": f"malformed body: {error}"}, status=400)
            self._note_foreign(inbound.numbers(payload))
            if self.services is None:
                return response.json({"error": "starting"}, status=503)  # Meta retries
            # Durably recorded before the 200: processing works from the inbox, so a process
            # killed after answering loses nothing. No await here: under load it would queue
            # the answer behind the messages being processed.
            try:
                fresh = self.services.inbox.accept(updates)
            except Exception:  # the database is away: not recorded, so not acknowledged
                logger.exception("WhatsApp webhook: could not record the messages; Meta will retry")
                return response.json({"error": "could not record; retry"}, status=503)
            for repeat in (u for u in updates if u not in fresh):
                logger.info("WhatsApp message %s delivered again; ignored", getattr(repeat, "id", "?"))
            for status in (u for u in fresh if isinstance(u, Status)):
                self._spawn(self._status(status))
            if any(not isinstance(u, Status) for u in fresh):
                self.inbox_loop.wake()
            return response.json({"status": "ok", "received": len(updates), "new": len(fresh)})

        return whatsapp

    def _note_foreign(self, numbers) -> None:
        """Updates for another number of the same Meta app are acknowledged, not handled."""
        for number in set(numbers) - {self.settings.phone_number_id} - self._foreign:
            self._foreign.add(number)
            logger.warning(
                "WhatsApp webhook: updates for business number id %s, not this one (%s); acknowledged and ignored",
                number,
                self.settings.phone_number_id or "none set",
            )

    # -- after the 200 -------------------------------------------------------------------

    async def _process_inbox(self, on_new_message) -> None:
        """Processes the inbox: at most `PROCESSING_AT_ONCE` messages at a time (Rasa's NLU
        and policies run on this event loop; a short queue of work keeps the webhook's 200
        quick), each phone's in order, whichever replica received them. Woken by this
        replica's webhook; every `INBOX_POLL` seconds it also takes what other replicas
        left behind (a replica killed mid-message)."""
        await self.inbox_loop.run(
            lambda room: self.services.inbox.claim(self.worker, room),
            lambda batch: [self._process(received, on_new_message) for received in batch],
        )

    async def _process(self, received: Received, on_new_message) -> None:
        keeper = asyncio.ensure_future(self._keep_claimed(received.row_id))
        try:
            await self._handle(received, on_new_message)
        finally:
            keeper.cancel()

    async def _keep_claimed(self, row_id: int) -> None:
        while True:
            await asyncio.sleep(STALE_CLAIM.total_seconds() / 3)
            try:
                await asyncio.to_thread(self.services.inbox.keep, row_id, self.worker)
            except Exception:  # the database is away: the claim may go stale; the tracker check covers that
                logger.warning("WhatsApp inbox: could not renew the claim on message row %s", row_id)

    async def _handle(self, received: Received, on_new_message) -> None:
        update = received.update
        with handling(update.id):  # what this message queues is keyed by it: never sent twice
            try:
                if isinstance(update, Inbound):
                    await self._inbound(update, on_new_message, retry=received.attempts > 0)
                else:
                    await self.desk.business_echo(update)
                await asyncio.to_thread(self.services.inbox.processed, received.row_id)
            except Exception as error:
                logger.exception("WhatsApp message %s could not be handled (try %d)", update.id, received.attempts + 1)
                try:
                    if await asyncio.to_thread(self.services.inbox.failed, received.row_id, repr(error)):
                        logger.error("WhatsApp message %s set aside after %d tries", update.id, received.attempts + 1)
                except Exception:  # the database is away too: the claim goes stale and is taken again
                    logger.exception("WhatsApp inbox: could not record the failure of %s", update.id)

    async def _inbound(self, message: Inbound, on_new_message, retry: bool = False) -> None:
        download = await self._download(message)
        agent = self.config.agent_by_phone(message.sender)
        if agent is not None:
            await commands.agent_message(self.desk, agent, message, download)
            return
        if download is not None:  # kept with the customer's conversation, before anyone sees it
            stored = await asyncio.to_thread(
                self.desk.media.save,
                message.sender,
                media.IN,
                message.media["type"],
                download.mime_type,
                download.content,
                filename=message.media.get("filename"),
                caption=message.media.get("caption"),
                source_id=message.media["id"],
            )
            message = replace(message, media={**stored.as_dict(), **_without(message.media, "id")})
        if message.kind == InboundKind.SYSTEM:
            logger.info("WhatsApp system message for %s (%s)", mask_phone(message.sender), message.id)
            return
        if message.kind == InboundKind.CHOICE and ratings.is_answer(message.text) and await self._rated(message):
            return
        case = await asyncio.to_thread(self.services.store.open_case_for, message.sender)
        answerable = message.kind not in (
            InboundKind.REACTION,
            InboundKind.REVISION,
        )  # those are not messages to answer
        if (
            answerable
            and retry
            and await asyncio.to_thread(rasa_events.has_message, self.services.store.engine, message.sender, message.id)
        ):
            answerable = False  # Rasa handled it before this replica (or another) died
        if answerable:
            offered = message.kind == InboundKind.CHOICE and await asyncio.to_thread(
                self.services.outbox.offered, message.sender, message.text
            )
            if message.kind == InboundKind.CHOICE and not offered:
                logger.info(
                    "WhatsApp: %s chose an option the bot never offered; read as words", mask_phone(message.sender)
                )
            text, metadata = _for_rasa(message, offered)
            said = UserMessage(
                text,
                self.get_output_channel(),
                message.sender,
                input_channel=self.name(),
                metadata=metadata,
                message_id=message.id,
            )
            if case is None:
                await on_new_message(said)
            else:  # a person owns the chat: it goes in the thread, and nothing answers it
                await self._log(said)
        if case is not None:
            await self.desk.customer_message(case, message)

    async def _log(self, message: UserMessage) -> None:
        agent = self.app.ctx.agent
        async with agent.lock_store.lock(message.sender_id):
            await agent.processor.log_message(message)

    async def _status(self, status: Status) -> None:
        error = "; ".join(f"{e.get('code')} {e.get('title') or e.get('message')}" for e in status.errors) or None
        row = await asyncio.to_thread(self.services.outbox.delivery, status.message_id, status.status, error)
        if status.status == "read" and row is not None and row.purpose == Purpose.INFO:
            await asyncio.to_thread(self.desk.copy_read, row)  # the agent read the customer's message
        if status.status != "failed":
            return
        if row is None:
            logger.warning(
                "WhatsApp: failed status for a message Posta did not send (%s): %s", status.message_id, error
            )
            return
        logger.error("WhatsApp: message %s to %s failed after sending: %s", row.id, mask_phone(row.recipient), error)
        await self.desk.send_failed(row, error or "failed")

    async def _rated(self, message: Inbound) -> bool:
        """A tap on "how did we do?": kept on the case and thanked, not a message for the bot."""
        services = self.services
        thanks = await asyncio.to_thread(
            ratings.record, self.config, services.store, services.outbox, message.sender, message.text
        )
        if thanks:
            await asyncio.to_thread(
                services.outbox.enqueue, thanks, purpose=Purpose.REPLY, conversation_id=message.sender
            )
        return thanks is not None

    async def _download(self, message: Inbound) -> Optional[media.Download]:
        """The bytes of a photo, voice note, video, document or sticker, fetched while Meta
        keeps them (a fresh URL each try: they expire within minutes); None, and a warning,
        if they cannot be had."""
        sent = message.media or {}
        if message.kind != InboundKind.MEDIA or sent.get("type") not in media.KINDS or not sent.get("id"):
            return None
        for attempt in range(1, DOWNLOAD_TRIES + 1):
            try:
                content, mime_type = await self.graph.download(str(sent["id"]))
                return media.Download(content, mime_type)
            except GraphError as error:
                logger.warning(
                    "WhatsApp: media %s from %s, try %d: %s", sent["id"], mask_phone(message.sender), attempt, error
                )
        return None

    def _spawn(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)  # keep a reference until it is done
        task.add_done_callback(self._tasks.discard)


def _for_rasa(message: Inbound, offered: bool = False):
    """The text Rasa gets for a customer's message, and what goes into its metadata: a
    button's payload only if the bot `offered` it, otherwise always words."""
    metadata: Dict[str, Any] = {"message_id": message.id}
    if message.name:
        metadata["customer_name"] = message.name
    if message.context_id:
        metadata["context_id"] = message.context_id
    if message.kind == InboundKind.MEDIA:
        metadata["media"] = message.media
        return "/media", metadata
    if message.kind == InboundKind.CHOICE:
        if message.title:
            metadata["title"] = message.title
        return (message.text if offered else as_words(message.title or "")), metadata
    return as_words(message.text), metadata


def as_words(text: str) -> str:
    """A customer's text as Rasa must read it: never an intent shortcut."""
    return WORD_JOINER + text if text.lstrip().startswith("/") else text


def _without(values: Dict[str, Any], key: str) -> Dict[str, Any]:
    return {k: v for k, v in values.items() if k != key}
