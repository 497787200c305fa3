"""WhatsApp phones for tests and benches: webhook bodies shaped like Meta's, and what the fake Graph API
delivered to each phone."""

from __future__ import annotations

import itertools
import random
import time
from functools import lru_cache
from typing import Any, Callable, Dict, List, Optional

import requests

from posta import config

_ids = itertools.count(1)


@lru_cache(maxsize=1)
def _agents() -> Dict[str, str]:
    return {agent.name: agent.phone for agent in config.load().agents}


def __getattr__(name: str):
    """AGENTS (name -> phone) and the demo agents' phones ANA, BRUNO and CARLA: the agents'
    own WhatsApp numbers as the servers read them (business.yml, or $POSTA_CONFIG), the one
    place tests and benches get them from. Read on first use, so what needs none of them
    (the unit tests) does not depend on the demo business."""
    if name == "AGENTS":
        return dict(_agents())
    if name in ("ANA", "BRUNO", "CARLA"):
        return _agents()[name.title()]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def webhook(messages=(), statuses=(), echoes=(), contacts=(), field: str = "messages") -> Dict[str, Any]:
    value: Dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "5491150000000", "phone_number_id": "1122334455667"},
    }
    if contacts:
        value["contacts"] = list(contacts)
    if messages:
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    if echoes:
        value["message_echoes"] = list(echoes)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1234567890", "changes": [{"value": value, "field": field}]}],
    }


def shown(body: Dict[str, Any]) -> str:
    """What a person sees of one delivered message."""
    type_ = body.get("type")
    content = body.get(type_) or {}
    if type_ == "text":
        return content["body"]
    if type_ == "interactive":
        options = [b["reply"]["title"] for b in (content["action"].get("buttons") or [])] + [
            r["title"] for s in content["action"].get("sections") or [] for r in s["rows"]
        ]
        return content["body"]["text"] + " " + " | ".join(f"[{o}]" for o in options)
    if type_ == "template":
        return f"template:{content['name']}"
    if isinstance(content, dict) and content.get("caption"):
        return f"[{type_}] {content['caption']}"
    return f"[{type_}]"


class Phone:
    def __init__(self, stack, number: Optional[str] = None, name: str = "Cliente") -> None:
        self.stack = stack
        self.number = number or f"54911{random.randint(10_000_000, 99_999_999)}"
        self.name = name
        self.seen = 0  # how many delivered messages the test has read already

    def message(self, type_: str, content: Dict[str, Any], context: Optional[str] = None) -> Dict[str, Any]:
        message = {
            "from": self.number,
            "id": f"wamid.TEST{next(_ids):06d}{random.randint(0, 10**6)}",
            "timestamp": str(int(time.time())),
            "type": type_,
            type_: content,
        }
        if context:
            message["context"] = {"from": "5491150000000", "id": context}
        return message

    def post(self, message: Dict[str, Any]) -> requests.Response:
        contact = {"profile": {"name": self.name}, "wa_id": self.number}
        response = self.stack.post_webhook(webhook([message], contacts=[contact]))
        assert response.status_code == 200, response.text
        return response

    def text(self, body: str, reply_to: Optional[str] = None) -> Dict[str, Any]:
        message = self.message("text", {"body": body}, reply_to)
        self.post(message)
        return message

    def send_media(
        self, type_: str, content: bytes, mime_type: str, caption: str = "", filename: str = "", voice: bool = False
    ) -> Dict[str, Any]:
        """What a phone does to send a photo, a voice note, a document: the bytes go to Meta
        (the fake Graph API keeps them), the webhook carries their id."""
        media: Dict[str, Any] = {"id": self.stack.graph.add_media(content, mime_type, filename or None)}
        media["mime_type"] = mime_type
        media.update({k: v for k, v in (("caption", caption), ("filename", filename)) if v})
        if voice:
            media["voice"] = True
        message = self.message(type_, media)
        self.post(message)
        return message

    def press(self, button_id: str, title: str = "ok") -> None:
        self.post(
            self.message("interactive", {"type": "button_reply", "button_reply": {"id": button_id, "title": title}})
        )

    def delivered(self) -> List[Dict[str, Any]]:
        return self.stack.graph.delivered(to=self.number)

    def wait(
        self, until: Callable[[List[Dict[str, Any]]], bool] = None, timeout: float = 20.0, count: int = 1
    ) -> List[Dict[str, Any]]:
        """New messages since the last wait, once `until` holds (default: `count` arrived)."""
        until = until or (lambda new: len(new) >= count)
        deadline = time.time() + timeout
        while True:
            new = self.delivered()[self.seen :]
            if until(new):
                self.seen += len(new)
                return new
            if time.time() > deadline:
                raise AssertionError(f"{self.number} got {[shown(b) for b in new]} within {timeout:.0f} s")
            time.sleep(0.1)

    def wait_for_text(self, fragment: str, timeout: float = 20.0) -> List[Dict[str, Any]]:
        return self.wait(lambda new: any(fragment in shown(b) for b in new), timeout)

    def quiet(self, seconds: float = 2.0) -> List[Dict[str, Any]]:
        """Waits a moment and returns whatever arrived (tests expect nothing)."""
        time.sleep(seconds)
        new = self.delivered()[self.seen :]
        self.seen += len(new)
        return new


def agent_phone(stack, number: str, name: str) -> Phone:
    """An agent who has written to the business number today (their 24-hour window is open)."""
    phone = Phone(stack, number, name)
    phone.seen = len(phone.delivered())
    phone.text("ayuda")
    phone.wait_for_text("Comandos")
    return phone


def case_of(cases, phone: Phone, timeout: float = 15.0):
    """The phone's open case, once the bot has opened it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        case = cases.open_case_for(phone.number)
        if case:
            return case
        time.sleep(0.1)
    raise AssertionError(f"no open case for {phone.number}")


def taken(cases, customer: Phone, agent: Phone, text: str = "quiero hablar con una persona"):
    """The customer asked for a person and `agent` took the chat; both phones have read
    everything so far. The case."""
    customer.text(text)
    customer.wait()
    case = case_of(cases, customer)
    agent.wait_for_text(f"Tomar #{case.id}")
    agent.press(f"posta:take:{case.id}", f"Tomar #{case.id}")
    agent.wait_for_text("Tomaste el caso")
    customer.wait()  # "a person is with you"
    return case


def taken_over(cases, customer: Phone, agent: Phone, text: str):
    """The bot answered the customer's `text`; then `agent` took the chat without the bot
    escalating (`tomar <phone>`). The case (a possible miss)."""
    customer.text(text)
    customer.wait()
    agent.text(f"tomar {customer.number}")
    agent.wait_for_text("Tomaste el caso")
    return case_of(cases, customer)


def judged_in_panel(stack, cases, customer: Phone, agent: Phone, question: str, judgment: str, password: str):
    """The customer asked for a person and then asked them `question`; the agent handed
    back in the panel and judged the case `judgment` there. The case."""
    case = taken(cases, customer, agent)
    customer.text(question)
    agent.wait_for_text(question[:16])
    panel = stack.panel_session(agent.name, password)
    assert panel.post(f"{stack.panel_url}/cases/{case.id}/handback", json={}).json()["ok"]
    assert panel.post(f"{stack.panel_url}/cases/{case.id}/judge", json={"text": judgment}).json()["ok"]
    return case


# Questions the bot answers with exactly one message, so every inbound expects one reply.
ONE_REPLY_QUESTIONS = [
    "hola",
    "donde estan ubicados?",
    "aceptan tarjeta de credito?",
    "hacen envios al interior?",
    "que cubre la garantia?",
    "si no me gustan los puedo cambiar?",
    "gracias!",
    "how much is shipping?",
    "where is the store?",
    "do you take credit cards?",
    "what does the warranty cover?",
    "hi there",
]
