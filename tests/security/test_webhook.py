"""The WhatsApp webhook's door: another business number's messages, oversized bodies and
malformed signatures are refused or ignored, and nothing of them is stored."""

import copy
import json
import time

import requests
import sqlalchemy as sa

from harness.phones import Phone, webhook
from harness.stack import APP_SECRET, sign
from posta.schema import inbox


def stored(cases, message_id):
    with cases.engine.connect() as conn:
        return conn.execute(sa.select(inbox).where(inbox.c.message_id == message_id)).first() is not None


def for_number(body, number_id):
    body = copy.deepcopy(body)
    body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = number_id
    return body


def test_messages_for_another_business_number_are_acknowledged_not_handled(stack, cases):
    customer = Phone(stack, name="Otro")
    before = stack.log().count("999000111222")
    for text in ("hola", "quiero hablar con una persona"):
        message = customer.message("text", {"body": text})
        body = for_number(
            webhook([message], contacts=[{"profile": {"name": "Otro"}, "wa_id": customer.number}]), "999000111222"
        )
        assert stack.post_webhook(body).status_code == 200  # Meta must not retry
        assert not stored(cases, message["id"])
    assert customer.quiet(2) == []
    assert cases.cases(conversation_id=customer.number) == []
    assert stack.log().count("999000111222") - before == 1  # logged once


def test_a_body_too_big_for_a_webhook_is_refused_and_nothing_is_stored(stack, cases):
    customer = Phone(stack)
    message = customer.message("text", {"body": "hola"})
    body = webhook([message])
    body["padding"] = "x" * (4 * 1024 * 1024)
    raw = json.dumps(body).encode()
    answer = stack.post_webhook(raw)
    assert answer.status_code == 413
    assert not stored(cases, message["id"])
    assert stack.post_webhook(webhook([customer.message("text", {"body": "hola"})])).status_code == 200  # still up


def test_a_malformed_signature_header_is_a_403_not_a_500(stack, cases):
    message = Phone(stack).message("text", {"body": "hola"})
    raw = json.dumps(webhook([message])).encode()
    url = f"{stack.url}/webhooks/whatsapp/webhook"
    for header in ("sha256=" + "ñ" * 64, "sha256=\u00ff" + sign(raw, APP_SECRET)[8:], "sha256", "md5=abc"):
        answer = requests.post(
            url, data=raw, headers={"Content-Type": "application/json", "X-Hub-Signature-256": header.encode("latin-1")}
        )
        assert answer.status_code == 403, (header, answer.status_code)
    time.sleep(0.5)
    assert not stored(cases, message["id"])
