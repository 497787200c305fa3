import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from posta.whatsapp import inbound, outbound
from posta.whatsapp.inbound import Echo, Inbound, Status
from simulator.graph_api import check_body

PAYLOADS = Path(__file__).resolve().parents[1] / "data" / "whatsapp-payloads"


def conformance():
    for path in sorted(PAYLOADS.glob("*.json")):
        for name, body in json.loads(path.read_text()).items():
            yield f"{path.stem}:{name}", body


def test_signature_is_checked_against_the_raw_body():
    body = b'{"object": "whatsapp_business_account", "entry": []}'
    header = inbound.sign(body, "secret")
    assert inbound.signature_is_valid(body, header, "secret")
    assert not inbound.signature_is_valid(body + b" ", header, "secret")
    assert not inbound.signature_is_valid(body, header, "other")
    assert not inbound.signature_is_valid(body, None, "secret")
    assert not inbound.signature_is_valid(body, header, "")  # no secret configured: refuse all


def test_the_conformance_payloads_are_here():
    assert len(list(conformance())) >= 40


def carried(body):
    """What a webhook body carries, read straight off Meta's JSON, in order: who wrote (and
    their profile name), which message, when; and for statuses, about which message and whom."""
    at = lambda item: datetime.fromtimestamp(int(item["timestamp"]), tz=timezone.utc)
    found = []
    for entry in body["entry"]:
        for change in entry["changes"]:
            value = change["value"]
            names = {c["wa_id"]: c["profile"]["name"] for c in value.get("contacts", [])}
            found += [("message", m["id"], m["from"], names.get(m["from"]), at(m)) for m in value.get("messages", [])]
            found += [("status", s["id"], s["recipient_id"], s["status"], at(s)) for s in value.get("statuses", [])]
            found += [("echo", e["id"], e["to"], None, at(e)) for e in value.get("message_echoes", [])]
    return found


def seen(update):
    if isinstance(update, Inbound):
        return ("message", update.id, update.sender, update.name, update.timestamp)
    if isinstance(update, Status):
        return ("status", update.message_id, update.recipient, update.status, update.timestamp)
    if isinstance(update, Echo):
        return ("echo", update.id, update.customer, None, update.timestamp)
    raise AssertionError(f"not an update: {update!r}")


@pytest.mark.parametrize("name, body", list(conformance()))
def test_every_conformance_payload_parses_to_what_it_carries(name, body):
    updates = inbound.parse(body)
    assert updates, name
    assert [seen(u) for u in updates] == carried(body)  # nothing lost, nothing misattributed, in order
    raw = [
        m
        for entry in body["entry"]
        for change in entry["changes"]
        for m in change["value"].get("messages", []) + change["value"].get("message_echoes", [])
    ]
    for update, message in zip([u for u in updates if not isinstance(u, Status)], raw):
        if message["type"] == "text":
            assert (update.kind, update.text) == ("text", message["text"]["body"]), name
        if isinstance(update, Inbound):  # what it replies or reacts to
            replied_to = (message.get("reaction") or {}).get("message_id") or (message.get("context") or {}).get("id")
            assert update.context_id == replied_to, name


def test_message_kinds():
    kinds = {name: [u.kind for u in inbound.parse(body) if isinstance(u, Inbound)] for name, body in conformance()}
    assert kinds["message:text"] == ["text"]
    assert kinds["callback_button:button"] == ["choice"]
    assert kinds["callback_button:quick_reply"] == ["choice"]
    assert kinds["callback_selection:callback"] == ["choice"]
    for media in (
        "image",
        "video",
        "document",
        "audio",
        "voice",
        "static_sticker",
        "current_location",
        "contacts",
        "order",
        "unsupported",
        "interactive_message_with_err",
    ):
        assert kinds[f"message:{media}"] == ["media"], media
    assert kinds["message:reaction"] == ["reaction"]
    assert kinds["deleted_message:revoke"] == ["revision"]
    assert kinds["edited_message:image"] == ["revision"]
    assert kinds["system:phone_number_change"] == ["system"]


def test_details_kept_for_the_case():
    bodies = dict(conformance())
    [voice] = inbound.parse(bodies["message:voice"])
    assert voice.media == {"type": "voice", "id": "1234567890987654321", "mime_type": "audio/ogg; codecs=opus"}
    assert voice.name == "Test Name"
    [document] = inbound.parse(bodies["message:document"])
    assert document.media["filename"] == "filename.pdf" and document.text == "caption"
    [place] = inbound.parse(bodies["message:chosen_location"])
    assert place.media == {
        "type": "location",
        "caption": "Facebook HQ, 1 Hacker Way, Menlo Park, CA 94025",
        "latitude": 37.4611978,
        "longitude": -122.2164385,
        "name": "Facebook HQ",
        "address": "1 Hacker Way, Menlo Park, CA 94025",
    }  # all it takes to forward it as a location
    [reply] = inbound.parse(bodies["message:reply"])
    assert reply.context_id == "wamid.xyzxyz=="
    [failed] = inbound.parse(bodies["message_status:failed"])
    assert failed.status == "failed" and failed.errors[0]["code"] == 130472
    [echo] = inbound.parse(bodies["outgoing_message:text"])
    assert (echo.kind, echo.text) == ("text", "Test message")


def test_malformed_payloads():
    for bad in ([], "x", {"object": "whatsapp_business_account"}, {"entry": "nope"}):
        with pytest.raises(inbound.PayloadError):
            inbound.parse(bad)
    # Unknown shapes inside a valid envelope are skipped, never fatal.
    assert inbound.parse({"entry": [{"changes": [{"value": {"messages": [{"id": "x"}, "junk"]}}, None]}]}) == []


def test_long_text_is_split_never_cut():
    words = " ".join(f"palabra{i}" for i in range(1200))
    bodies = outbound.text("5491100000000", words)
    assert len(words) > 3 * 4096 and len(bodies) == 4
    assert all(check_body(b) is None for b in bodies)
    assert " ".join(b["text"]["body"] for b in bodies) == words


def test_three_short_choices_are_buttons_more_become_a_list():
    buttons = outbound.choices("549", "¿Querés un turno?", [("/affirm", "Sí, reservame"), ("/deny", "Ahora no")])
    assert buttons[0]["interactive"]["type"] == "button" and check_body(buttons[0]) is None
    long_title = outbound.choices("549", "Elegí", [("a", "Un título bastante largo para un botón")])
    row = long_title[0]["interactive"]["action"]["sections"][0]["rows"][0]
    assert long_title[0]["interactive"]["type"] == "list" and len(row["title"]) <= 24
    assert row["description"].startswith("Un título bastante largo")
    many = outbound.choices("549", "Elegí", [(str(i), f"Opción {i}") for i in range(23)])
    assert [len(m["interactive"]["action"]["sections"][0]["rows"]) for m in many] == [10, 10, 3]
    assert all(check_body(m) is None for m in many)


def test_long_body_with_buttons_goes_first_as_text():
    body = "x " * 1500
    messages = outbound.choices("549", body, [("1", "Sí")])
    assert [m["type"] for m in messages] == ["text", "interactive"]
    assert all(check_body(m) is None for m in messages)


def test_the_fake_refuses_what_meta_refuses():
    too_many = outbound._envelope(
        "549",
        "interactive",
        {
            "type": "button",
            "body": {"text": "x"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": str(i), "title": "ok"}} for i in range(4)]},
        },
    )
    assert check_body(too_many) == "1-3 buttons"
    assert check_body(outbound._envelope("549", "text", {"body": "x" * 4097})) is not None
