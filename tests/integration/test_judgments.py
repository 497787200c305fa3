"""Was a person needed? Through the real servers: an agent judges a case on WhatsApp (and,
after "the bot could have answered", says with which answer) and in the panel; a takeover
of a chat the bot did not escalate counts as a possible miss in the reports."""

from harness.phones import Phone, shown, taken, taken_over


def test_an_agent_judges_on_whatsapp_with_one_tap_and_then_the_answer(stack, cases, customer, ana):
    case = taken(cases, customer, ana)
    ana.text("listo")
    question = next(b for b in ana.wait_for_text("¿hacía falta una persona?") if "hacía falta" in shown(b))
    ids = [b["reply"]["id"] for b in question["interactive"]["action"]["buttons"]]
    assert ids == [f"posta:judge:{case.id}:{j}" for j in ("needed", "bot", "other")]

    ana.press(f"posta:judge:{case.id}:bot", "No, el bot podía")
    topics = next(b for b in ana.wait_for_text("¿con cuál de sus respuestas?") if b["type"] == "interactive")
    rows = [r["id"] for s in topics["interactive"]["action"]["sections"] for r in s["rows"]]
    assert f"posta:judge:{case.id}:bot:hours" in rows and not any(r.endswith(":health") for r in rows)
    ana.press(f"posta:judge:{case.id}:bot:hours", "horarios")
    ana.wait_for_text("anotado en el caso")
    judged = cases.get(case.id)
    assert (judged.judgment, judged.judged_topic, judged.judged_by) == ("bot", "hours", "Ana")

    ana.press(f"posta:judge:{case.id}:needed", "Sí")  # asked once, kept once
    assert cases.get(case.id).judgment == "bot"


def test_in_the_panel_and_a_takeover_is_a_possible_miss(stack, cases, ana):
    customer = Phone(stack, name="Panel")
    case = taken(cases, customer, ana)
    panel = stack.panel_session("Ana", "ana-demo")
    assert panel.post(f"{stack.panel_url}/cases/{case.id}/handback", json={}).json()["ok"]
    shown_case = panel.get(f"{stack.panel_url}/api/cases/{case.id}").json()
    assert shown_case["judge"] is True and ["hours", "horarios"] in shown_case["judge_topics"]
    assert panel.post(f"{stack.panel_url}/cases/{case.id}/judge", json={"text": "needed"}).json()["ok"]
    assert cases.get(case.id).judgment == "needed"
    assert panel.get(f"{stack.panel_url}/api/cases/{case.id}").json()["judge"] is False

    before = panel.get(f"{stack.panel_url}/api/reports").json()["possible_misses"]
    taken_over(cases, Phone(stack, name="Sin escalar"), ana, "hola")  # where the bot did not escalate
    report = panel.get(f"{stack.panel_url}/api/reports").json()
    assert report["possible_misses"] == before + 1
    assert report["precision"]["requested"]["judged"] >= 1
