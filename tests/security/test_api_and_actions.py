"""Rasa's HTTP API, the REST channel and the action server, attacked as in the issue: from
a caller without the token or the secret, and from another site's page. Effects are
checked, not only status codes: the case is still open and owned, the customer got nothing."""

import json
import time

import requests

from harness.phones import case_of, shown
from harness.stack import ACTIONS_HEADER

EVIL = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}


def owned_by_ana(stack, cases, customer, ana):
    """A customer whose chat Ana has taken: the case is active and the tracker paused."""
    customer.text("quiero hablar con una persona")
    customer.wait()
    case = case_of(cases, customer)
    ana.wait_for_text(f"Tomar #{case.id}")
    ana.press(f"posta:take:{case.id}")
    ana.wait_for_text("Tomaste el caso")
    customer.wait_for_text("Una persona del equipo")
    return cases.get(case.id)


def assert_still_ana_s(stack, cases, customer, case):
    now = cases.get(case.id)
    assert (now.status, now.agent, now.reason, now.closed_at) == ("active", "Ana", "requested", None)
    tracker = stack.tracker(customer.number)
    assert tracker["paused"] and tracker["slots"]["handoff_reason"] == "requested"


def test_the_http_api_answers_nothing_without_the_token(stack, cases, customer, ana):
    case = owned_by_ana(stack, cases, customer, ana)
    number = customer.number
    attacks = [
        ("GET", f"/conversations/{number}/tracker", None),
        ("POST", f"/conversations/{number}/tracker/events", [{"event": "resume"}]),
        (
            "POST",
            f"/conversations/{number}/tracker/events?execute_side_effects=true&output_channel=whatsapp",
            [{"event": "bot", "text": "Pagá acá: http://evil.example"}],
        ),
        ("POST", f"/conversations/{number}/trigger_intent", {"name": "handback", "entities": {"agent": "Bruno"}}),
        ("POST", f"/conversations/{number}/execute?output_channel=whatsapp", {"name": "action_handback"}),
        ("GET", "/status", None),
        ("PUT", "/model", {"model_file": "/tmp/nothing.tar.gz"}),
    ]
    for method, path, body in attacks:
        for token in (None, "not-the-token"):
            url = stack.url + path + (("&" if "?" in path else "?") + f"token={token}" if token else "")
            answer = requests.request(method, url, json=body, timeout=30)
            assert answer.status_code == 401, (method, path, token, answer.status_code, answer.text[:200])
            assert number not in answer.text  # nothing of the conversation leaks
    assert customer.quiet(2) == []  # nothing was sent to the customer
    assert_still_ana_s(stack, cases, customer, case)


def test_the_model_cannot_be_unloaded_without_the_token(stack, sender):
    assert requests.delete(f"{stack.url}/model", timeout=30).status_code == 401
    assert "Óptica Mirada" in json.dumps(stack.say(sender, "hola"), ensure_ascii=False)  # still loaded


def test_the_rest_channel_needs_the_token(stack, cases):
    victim = "5491155559911"
    for url in (f"{stack.url}/webhooks/rest/webhook", f"{stack.url}/webhooks/rest/webhook?token=wrong"):
        answer = requests.post(
            url,
            json={
                "sender": victim,
                "message": "me cobraron dos veces, quiero un reembolso",
                "input_channel": "whatsapp",
            },
            timeout=30,
        )
        assert answer.status_code == 401
    assert cases.cases(conversation_id=victim) == []  # no case in the customer's name
    assert not [e for e in stack.tracker(victim)["events"] if e["event"] == "user"]
    time.sleep(1)
    assert all("dos veces" not in shown(b) for b in stack.graph.delivered())  # no agent got the caller's summary


def test_requests_from_another_sites_page_are_refused_even_with_the_token(stack, cases):
    victim = stack.new_sender()
    rest = stack.api("/webhooks/rest/webhook")
    page_post = requests.post(
        rest,
        data=json.dumps({"sender": victim, "message": "quiero hablar con una persona"}),
        headers={"Content-Type": "text/plain", "Origin": "http://evil.example"},
        timeout=30,
    )
    assert page_post.status_code == 403
    image_get = requests.get(stack.api(f"/conversations/{victim}/tracker"), headers=EVIL, timeout=30)
    assert image_get.status_code == 403
    login = requests.post(
        f"{stack.panel_url}/login",
        data={"name": "Ana", "password": "ana-demo"},
        headers={"Origin": "http://evil.example"},
        timeout=30,
    )
    assert login.status_code == 403
    assert cases.cases(conversation_id=victim) == []
    assert not [e for e in stack.tracker(victim)["events"] if e["event"] == "user"]
    # Following a link to the panel from elsewhere still works.
    link = requests.get(
        f"{stack.panel_url}/login", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}, timeout=30
    )
    assert link.status_code == 200


def forged_call(stack, action, sender, entities=(), text="", secret=None):
    tracker = {
        "sender_id": sender,
        "slots": {},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": None,
        "latest_input_channel": "whatsapp",
        "latest_message": {
            "text": text,
            "intent": {"name": "request_human", "confidence": 1.0},
            "entities": list(entities),
        },
    }
    headers = {ACTIONS_HEADER: secret} if secret else {}
    return requests.post(
        f"http://127.0.0.1:{stack.actions_port}/webhook",
        headers=headers,
        timeout=30,
        json={"next_action": action, "sender_id": sender, "tracker": tracker, "domain": {}, "version": "3.6.2"},
    )


def test_the_action_server_answers_only_the_rasa_server(stack, cases, customer, ana):
    case = owned_by_ana(stack, cases, customer, ana)
    before = len(ana.delivered())
    for secret in (None, "not-the-secret"):
        answer = forged_call(
            stack, "action_handback", customer.number, [{"entity": "agent", "value": "Bruno"}], secret=secret
        )
        assert answer.status_code == 401
    assert_still_ana_s(stack, cases, customer, case)
    assert "handed_back" not in [e.kind for e in cases.history(case.id)]

    stranger = "5491155559922"
    answer = forged_call(stack, "action_handoff", stranger, text="URGENTE: transferí $50.000 a la cuenta 123")
    assert answer.status_code == 401
    assert cases.cases(conversation_id=stranger) == []
    time.sleep(1)
    assert all("cuenta 123" not in shown(b) for b in ana.delivered()[before:])  # no agent was told
    assert "without the shared secret" in stack.actions.log.read_text(errors="replace")
    assert requests.get(f"http://127.0.0.1:{stack.actions_port}/health", timeout=10).status_code == 200


def test_a_handoff_on_a_conversation_with_an_open_case_adds_and_sends_nothing(stack, cases, customer, ana):
    case = owned_by_ana(stack, cases, customer, ana)
    rows = len(stack.graph.attempts())
    answer = forged_call(stack, "action_handoff", customer.number, text="otra cosa", secret=stack.actions_secret)
    assert answer.status_code == 200
    assert answer.json()["responses"] == []
    time.sleep(1)
    assert len(stack.graph.attempts()) == rows  # nobody was written to
    assert_still_ana_s(stack, cases, customer, case)
    assert [e.kind for e in cases.history(case.id)].count("created") == 1


def test_a_restart_shortcut_on_the_rest_channel_cannot_loop_the_handoff(stack, cases, sender):
    stack.say(sender, "quiero hablar con una persona")
    case = cases.open_case_for(sender)
    assert case is not None
    replies = stack.say(sender, "/restart")
    assert [r.get("text") for r in replies if r.get("text")] == []
    assert (cases.get(case.id).reason, cases.get(case.id).status) == ("requested", "assigned")
