"""Thousands of validly signed but odd webhook bodies: never a 5xx, the server keeps
serving, and nothing is stored for a body that is refused."""

import copy
import json

import requests
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.phones import Phone, shown
from harness.stack import texts
from posta.schema import inbox
from tests.integration.test_whatsapp import PAYLOADS, eventually

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        "entry",
        "changes",
        "value",
        "messages",
        "statuses",
        "message_echoes",
        "contacts",
        "from",
        "id",
        "type",
        "text",
        "body",
        "interactive",
        "button_reply",
        "timestamp",
        "field",
        "wa_id",
    ]
)
SAMPLES = [body for path in sorted(PAYLOADS.glob("*.json")) for body in json.loads(path.read_text()).values()]


def inbox_rows(cases) -> int:
    with cases.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(inbox)).scalar()


def mutate(body, key, value, depth):
    """Replaces, somewhere `depth` levels down, the value under `key` (or the first one) with `value`."""
    node = body
    for _ in range(depth):
        children = list(node.values()) if isinstance(node, dict) else node if isinstance(node, list) else []
        containers = [c for c in children if isinstance(c, (dict, list))]
        if not containers:
            break
        node = containers[0]
    if isinstance(node, dict):
        node[key if key in node or not node else next(iter(node))] = value
    elif isinstance(node, list) and node:
        node[0] = value
    return body


@settings(
    max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(body=JSON)
def test_arbitrary_json_is_refused_or_ignored_never_a_5xx(stack, cases, body):
    before = inbox_rows(cases)
    response = stack.post_webhook(json.dumps(body).encode())
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert inbox_rows(cases) == before


@settings(
    max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(sample=st.sampled_from(SAMPLES), key=KEYS, value=JSON, depth=st.integers(0, 6))
def test_real_payloads_with_a_part_replaced_never_a_5xx(stack, cases, sample, key, value, depth):
    before = inbox_rows(cases)
    response = stack.post_webhook(json.dumps(mutate(copy.deepcopy(sample), key, value, depth)).encode())
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert inbox_rows(cases) == before


def test_the_server_still_answers_after_the_fuzzing(stack, cases, sender):
    assert requests.get(f"{stack.url}/webhooks/whatsapp/").json()["status"] == "ok"
    customer = Phone(stack, name="Lucía")
    customer.text("hola")
    [greeting] = customer.wait()
    assert greeting["to"] == customer.number and "Óptica Mirada" in shown(greeting)  # the usual answer, to her
    assert customer.quiet(1) == []  # once
    assert "Óptica Mirada" in texts(stack.say(sender, "hola"))  # the REST channel too

    # Whatever the fuzzing got stored was handled, none of it failed or is still waiting.
    def settled():
        with cases.engine.connect() as conn:
            rows = conn.execute(sa.select(inbox.c.message_id, inbox.c.processed_at, inbox.c.error)).fetchall()
        return rows if all(r.processed_at for r in rows) else None

    rows = eventually(settled, 60, "every stored webhook message processed")
    assert [(r.message_id, r.error) for r in rows if r.error] == []
