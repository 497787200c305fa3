"""The Rasa side of the desk: the `Conversations` port done on Rasa's trackers, and the
output channel that sends the bot's replies through the outbox."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Optional, Text

from rasa.core.channels.channel import OutputChannel
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, ConversationResumed, SlotSet

from posta import language
from posta.states import Purpose, Reason
from posta.whatsapp import outbound
from posta.whatsapp.outbox import Outbox, current_message


class WhatsAppOutput(OutputChannel):
    """Bot replies to a customer, through the outbox."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    @classmethod
    def name(cls) -> Text:
        return "whatsapp"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        lang = language.detect(message.get("text") or "") or "es"
        bodies = outbound.from_bot(recipient_id, message, lang)
        if bodies:
            await asyncio.to_thread(self.outbox.enqueue, bodies, purpose=Purpose.REPLY, conversation_id=recipient_id)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


class RasaConversations:
    """The desk's `Conversations`, done on Rasa's trackers (under Rasa's lock per conversation)."""

    def __init__(self, app, output: WhatsAppOutput) -> None:
        self.app, self.output = app, output

    @property
    def agent(self):
        return self.app.ctx.agent

    async def take_over(self, conversation_id: str) -> None:
        await self._append(
            conversation_id, SlotSet("handoff_reason", Reason.AGENT_TAKEOVER.value), ConversationPaused()
        )

    async def resume_bot(self, conversation_id: str, agent: str) -> None:
        async with self.agent.lock_store.lock(conversation_id):
            tracker = await self.agent.tracker_store.get_or_create_tracker(conversation_id)
            # Nothing was predicted while paused: resume and listen, then the `handback`
            # intent runs action_handback (closes the case) and the bot's follow-up.
            tracker.update(ConversationResumed())
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
            await self.agent.processor.trigger_external_user_uttered("handback", {"agent": agent}, tracker, self.output)

    async def log_agent_message(
        self,
        conversation_id: str,
        agent: str,
        text: str,
        media: Optional[Dict[str, Any]] = None,
        quote: Optional[str] = None,
    ) -> None:
        message_id = current_message()
        async with self.agent.lock_store.lock(conversation_id):
            tracker = await self.agent.tracker_store.get_or_create_tracker(conversation_id, append_action_listen=False)
            if message_id and any(
                (e.metadata or {}).get("message_id") == message_id
                for e in list(tracker.events)[-20:]
                if isinstance(e, BotUttered)
            ):
                return  # logged before a crash; the message is being handled again
            metadata = {"agent": agent, "message_id": message_id}
            metadata.update({k: v for k, v in (("media", media), ("quote", quote)) if v})
            tracker.update(BotUttered(text, metadata=metadata))
            await self.agent.tracker_store.save(tracker)

    async def say(self, conversation_id: str, response_name: str, **values: Any) -> None:
        tracker = await self.agent.tracker_store.get_or_create_tracker(conversation_id, append_action_listen=False)
        message = await self.agent.nlg.generate(response_name, tracker, self.output.name(), **values)
        if message:
            await self.output.send_response(conversation_id, message)
            await self._append(
                conversation_id,
                BotUttered(
                    message.get("text"), metadata={"agent": values.get("agent_name"), "utter_action": response_name}
                ),
            )

    async def _append(self, conversation_id: str, *events) -> None:
        async with self.agent.lock_store.lock(conversation_id):
            tracker = await self.agent.tracker_store.get_or_create_tracker(conversation_id, append_action_listen=False)
            for event in events:
                tracker.update(event)
            await self.agent.tracker_store.save(tracker)
