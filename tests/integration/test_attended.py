"""The customer sees they are attended, through the real servers: their messages are
marked read when the person who owns the chat has seen them (on take, when the agent's
phone reads the relayed copy, when the panel shows the case, on a reply), and the typing
indicator shows while the agent types in the panel, at most once every 20 seconds. (What the
Graph API fake refuses is in tests/unit/test_graph_fake.py.)"""

import time

from harness.phones import case_of, webhook


def marks(stack, ids):
    """The read marks (message id, with typing) the Graph API got for these messages."""
    return [(m, typing) for m, typing in stack.graph.receipts() if m in ids]


def wait_for_marks(stack, ids, count, timeout=15.0):
    deadline = time.time() + timeout
    while len(marks(stack, ids)) < count:
        assert time.time() < deadline, f"read marks {marks(stack, ids)} within {timeout} s"
        time.sleep(0.1)
    return marks(stack, ids)


def test_read_marks_and_typing_follow_what_the_person_has_seen(stack, cases, customer, ana):
    asked = customer.text("quiero hablar con una persona")["id"]
    customer.wait()
    case = case_of(cases, customer)
    time.sleep(1)
    assert marks(stack, {asked}) == []  # nobody has seen it yet

    ana.wait_for_text(f"Tomar #{case.id}")
    ana.press(f"posta:take:{case.id}", f"Tomar #{case.id}")
    assert wait_for_marks(stack, {asked}, 1) == [(asked, False)]  # she has the summary
    ana.wait_for_text("Tomaste el caso")
    customer.wait()

    second = customer.text("es por unos anteojos que compré")["id"]
    ana.wait()  # her copy arrived...
    copy = stack.graph.attempts(ana.number)[-1].wamid
    assert marks(stack, {second}) == []
    read = {"id": copy, "status": "read", "timestamp": str(int(time.time())), "recipient_id": ana.number}
    assert stack.post_webhook(webhook(statuses=[read])).status_code == 200  # ...and her phone read it
    assert wait_for_marks(stack, {second}, 1) == [(second, False)]

    third = customer.text("¿siguen ahí?")["id"]
    ana.wait()
    ana.text("Sí, Lucía, acá estoy")
    customer.wait()
    assert marks(stack, {third}) == [(third, False)]  # marked before the reply went out

    panel = stack.panel_session("Ana", "ana-demo")
    fourth = customer.text("gracias!")["id"]
    ana.wait()
    assert panel.get(f"{stack.panel_url}/api/cases/{case.id}").status_code == 200  # the panel shows it
    assert wait_for_marks(stack, {fourth}, 1) == [(fourth, False)]
    assert panel.post(f"{stack.panel_url}/cases/{case.id}/typing", json={}).json()["ok"]
    assert panel.post(f"{stack.panel_url}/cases/{case.id}/typing", json={}).json()["ok"]
    assert wait_for_marks(stack, {fourth}, 2) == [(fourth, False), (fourth, True)]
    time.sleep(1)
    assert len(marks(stack, {fourth})) == 2  # the second keystroke within 20 s sent nothing
