"""The second shipped business, Casa Lola (a restaurant in Madrid), through the real servers:
its own model, answers, hours, teams, sensitive topics and safety lines, with no Python of
its own. Everything asserted here comes from businesses/restaurant/."""

import os
from contextlib import ExitStack

import pytest

from deploy.processes import RESTAURANT, ROOT, model
from harness.phones import Phone, agent_phone, case_of, shown
from harness.stack import Stack, fresh_postgres_database, texts
from posta import config
from posta.store import CaseStore

CASA_LOLA = config.load(ROOT / RESTAURANT / "business.yml")
LOLA, MARCOS = (CASA_LOLA.agent_by_name(name).phone for name in ("Lola", "Marcos"))
# Madrid time. Tuesday 24 November 2026, 14:00: lunch service, everyone on shift.
OPEN = "2026-11-24T14:00"
# Monday 30 November, 11:00: closed all day; back Tuesday at 13:00.
MONDAY = "2026-11-30T11:00"
# Sunday 29 November, 00:15: Saturday's dinner runs to 00:30.
AFTER_MIDNIGHT = "2026-11-29T00:15"


@pytest.fixture(scope="module")
def restaurant_database(tmp_path_factory):
    """Its own database: another installation, whose servers must not share the demo's inbox
    and outbox (each would take the other's messages)."""
    with ExitStack() as stack:
        if os.environ.get("POSTA_TEST_POSTGRES_URL"):
            yield stack.enter_context(fresh_postgres_database("posta_restaurant"))
        else:
            yield f"sqlite:///{tmp_path_factory.mktemp('restaurant-db') / 'posta.db'}"


@pytest.fixture(scope="module")
def restaurant(restaurant_database, tmp_path_factory):
    if not model(RESTAURANT).exists():
        pytest.fail(f"{model(RESTAURANT)} is missing: run `make train POSTA_BUSINESS={RESTAURANT}`")
    stack = Stack(restaurant_database, tmp_path_factory.mktemp("restaurant"), now=OPEN, business=RESTAURANT).start()
    yield stack
    stack.stop()


@pytest.fixture
def cases(restaurant_database):
    """Casa Lola's cases; each test leaves its agents free."""
    store = CaseStore(restaurant_database)
    yield store
    for case in store.cases():
        if case.is_open:
            store.close(case.conversation_id, by="test-cleanup")


def test_faq_from_its_own_files_in_both_languages(restaurant):
    sender = restaurant.new_sender()
    assert "Soy el asistente de Casa Lola" in texts(restaurant.say(sender, "hola buenas"))
    hours = texts(restaurant.say(sender, "a que hora abris el domingo?"))
    assert "13:00–16:30" in hours and "20:00–00:30" in hours  # business.yml's, past midnight included
    assert "Ahora estamos abiertos" in hours
    delivery = texts(restaurant.say(sender, "do you deliver to Atocha? how much is delivery"))
    assert "within 3 km of Lavapiés" in delivery
    tracker = restaurant.tracker(sender)
    assert tracker["slots"]["language"] == "en" and not tracker["paused"]


def test_the_menu_answers_the_dish_named_and_its_buttons(restaurant):
    sender = restaurant.new_sender()
    assert "paella valenciana 16 €" in texts(restaurant.say(sender, "cuanto cuesta la paella?"))
    overview = restaurant.say(sender, "what's on the menu?")
    buttons = overview[0]["buttons"]
    assert [b["title"] for b in buttons] == ["Rice dishes", "Grill", "Fish", "Vegetarian", "Desserts"]
    assert "cheesecake" in texts(restaurant.say(sender, buttons[4]["payload"]))


def test_an_allergy_goes_to_the_encargada_urgent_with_the_safety_line(restaurant, cases):
    lola = agent_phone(restaurant, LOLA, "Lola")
    customer = Phone(restaurant, name="Irene")
    customer.text("hola! soy celiaca, puedo comer la paella o lleva algo con gluten?")
    replies = [shown(b) for b in customer.wait_for_text("112")]
    assert any("Te paso con" in r for r in replies)
    case = case_of(cases, customer)
    assert (case.reason, case.topic, case.team, case.agent) == ("sensitive", "allergy", "encargada", "Lola")
    assert case.summary.urgent
    summary = "\n".join(shown(b) for b in lola.wait_for_text("URGENTE"))
    assert "alergia o intolerancia" in summary and "plato paella" in summary  # topics.yml's label and fact
    assert "soy celiaca, puedo comer la paella" in summary


def test_a_booking_offer_accepted_goes_to_sala(restaurant, cases):
    sender = restaurant.new_sender()
    offer = texts(restaurant.say(sender, "teneis mesa para 4 el sabado a las 21?"))
    assert "¿Quieres que alguien del equipo te haga la reserva?" in offer
    restaurant.say(sender, "/affirm")
    case = cases.open_case_for(sender)
    assert (case.reason, case.topic, case.team) == ("requested", "booking", "sala")


def test_closed_on_monday_the_case_waits_for_tuesday(restaurant, cases):
    sender = restaurant.new_sender()
    with restaurant.clock(MONDAY):
        reply = texts(restaurant.say(sender, "me cobrasteis dos veces la cena del sabado", customer_name="Pablo"))
    assert "Ahora estamos cerrados; volvemos mañana a las 13:00" in reply  # Tuesday, lunch
    case = cases.open_case_for(sender)
    assert (case.status, case.reason, case.topic, case.team) == ("waiting", "sensitive", "refund", "encargada")


def test_after_midnight_saturdays_dinner_is_still_open(restaurant):
    sender = restaurant.new_sender()
    with restaurant.clock(AFTER_MIDNIGHT):
        assert "Ahora estamos abiertos" in texts(restaurant.say(sender, "estais abiertos ahora?"))
