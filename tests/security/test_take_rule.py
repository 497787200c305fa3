"""One rule for who may take which case, on WhatsApp and in the panel alike: an agent
takes a case routed to them or waiting in their teams' queue; an admin any case nobody is
on; a chat by phone only if it belongs to one of the agent's teams."""

import requests

from harness.phones import BRUNO, CARLA, agent_phone, case_of, shown


def signed_in(stack, name, password):
    session = requests.Session()
    session.get(f"{stack.panel_url}/login")
    answer = session.post(
        f"{stack.panel_url}/login",
        allow_redirects=False,
        data={"name": name, "password": password, "csrf": session.cookies.get("posta_login_csrf")},
    )
    assert answer.status_code == 303, answer.text[:300]
    return session


def panel_take(stack, session, case_id):
    page = session.get(f"{stack.panel_url}/queue").text
    csrf = page.split('const CSRF = "')[1].split('"')[0]
    return session.post(f"{stack.panel_url}/cases/{case_id}/take", json={}, headers={"X-CSRF-Token": csrf})


def routed_to_ana(cases, customer):
    customer.text("quiero hablar con una persona")
    case = case_of(cases, customer)
    assert (case.agent, case.team, case.status) == ("Ana", "sales", "assigned")
    customer.wait()
    return case


def test_an_agent_cannot_take_another_agents_case_by_its_number(stack, cases, customer):
    case = routed_to_ana(cases, customer)
    bruno = agent_phone(stack, BRUNO, "Bruno")  # support
    bruno.text(f"tomar {case.id}")
    assert "no es para vos" in shown(bruno.wait()[0])
    assert (cases.get(case.id).agent, cases.get(case.id).status) == ("Ana", "assigned")
    assert customer.quiet(1) == []  # nobody told the customer a person took it
    refused = panel_take(stack, signed_in(stack, "Bruno", "bruno-demo"), case.id)
    assert refused.status_code in (404, 409)
    assert cases.get(case.id).agent == "Ana"


def test_an_agent_cannot_take_another_teams_chat_by_phone(stack, cases, customer):
    customer.text("hola, cuanto salen los anteojos de sol?")
    customer.wait()
    bruno = agent_phone(stack, BRUNO, "Bruno")
    bruno.text(f"tomar {customer.number}")
    assert "no de tus equipos" in shown(bruno.wait()[0])
    assert cases.open_case_for(customer.number) is None
    assert not stack.tracker(customer.number)["paused"]


def test_an_admin_takes_a_case_routed_to_someone_else(stack, cases, customer):
    case = routed_to_ana(cases, customer)
    carla = agent_phone(stack, CARLA, "Carla")  # admin
    carla.text(f"tomar {case.id}")
    carla.wait_for_text("Tomaste el caso")
    assert (cases.get(case.id).agent, cases.get(case.id).status) == ("Carla", "active")


def test_an_agent_takes_a_case_waiting_in_their_teams_queue_only(stack, cases, customer, ana):
    case = routed_to_ana(cases, customer)
    cases.reassign(case.id, team="support", agent=None, by="test", kind="transferred")
    ana.text(f"tomar {case.id}")  # sales
    assert "no es para vos" in shown(ana.wait_for_text("no es para vos")[-1])
    bruno = agent_phone(stack, BRUNO, "Bruno")  # support
    bruno.text(f"tomar {case.id}")
    bruno.wait_for_text("Tomaste el caso")
    assert cases.get(case.id).agent == "Bruno"
