import threading
from datetime import datetime

import pytest

from posta import config, handoff, routing
from posta.schema import case_events, cases
from posta.store import CaseStore
from posta.summary import CaseSummary, CustomerMessage
from tests.unit.conftest import TIMEZONE

WEDNESDAY_11 = datetime(2026, 11, 25, 11, 0, tzinfo=TIMEZONE)
WEDNESDAY_15 = datetime(2026, 11, 25, 15, 0, tzinfo=TIMEZONE)
SUNDAY_NIGHT = datetime(2026, 11, 29, 23, 10, tzinfo=TIMEZONE)


@pytest.fixture
def store(database_url):
    store = CaseStore(database_url)
    with store.engine.begin() as conn:
        conn.execute(case_events.delete())
        conn.execute(cases.delete())
    return store


def summary(conversation_id, topic="general", reason="requested", language="es", name=None, text="hola"):
    return CaseSummary(
        conversation_id=conversation_id,
        reason=reason,
        topic=topic,
        language=language,
        customer_name=name,
        messages=[CustomerMessage(text=text)],
    )


def test_a_case_round_trips_with_its_summary(store):
    case = store.open_case(summary("c1", name="Lucía"), team="sales", agent="Eva")
    again = store.get(case.id)
    assert again.summary.customer_name == "Lucía"
    assert again.status == "assigned" and again.agent == "Eva" and again.is_open
    assert again.created_at.tzinfo is not None
    assert [e.kind for e in store.history(case.id)] == ["created", "routed"]


def test_one_open_case_per_conversation_even_when_actions_race(store):
    results = []

    def open_one():
        results.append(store.open_case(summary("race"), team="sales"))

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({case.id for case in results}) == 1
    assert len(store.cases(conversation_id="race")) == 1


def test_handback_closes_with_timestamps_and_allows_a_new_case(store):
    first = store.open_case(summary("c2"), team="sales")
    closed = handoff.close_case(store, "c2", by="Eva")
    assert closed.status == "closed" and closed.closed_by == "Eva" and closed.closed_at >= first.created_at
    assert store.open_case_for("c2") is None
    assert handoff.close_case(store, "c2") is None  # nothing left to close
    second = store.open_case(summary("c2"), team="sales")
    assert second.id != first.id


def test_cases_survive_a_new_store_object(store, database_url):
    case = store.open_case(summary("c3"), team="support")
    assert CaseStore(database_url).open_case_for("c3").id == case.id


def test_routing_by_topic_shift_capacity_and_language(store, business):
    # 11:00: Eva (sales) and Hugo (support) are on shift; Rosa starts at 14:00.
    sales = handoff.hand_off(store, business, summary("r1", topic="catalogue"), WEDNESDAY_11)
    assert (sales.case.team, sales.agent.name) == ("sales", "Eva")
    support = handoff.hand_off(store, business, summary("r2", topic="injury", reason="sensitive"), WEDNESDAY_11)
    assert (support.case.team, support.agent.name) == ("support", "Hugo")


def test_routing_prefers_the_customers_language_then_least_load_then_round_robin(business):
    load, last = {}, {}
    # 15:00: Hugo (es) and Rosa (es, en) are on support.
    assert routing.choose_agent(business, "support", "en", WEDNESDAY_15, load, last).name == "Rosa"
    assert routing.choose_agent(business, "support", "es", WEDNESDAY_15, load, last).name == "Hugo"
    assert routing.choose_agent(business, "support", "es", WEDNESDAY_15, {"Hugo": 1}, last).name == "Rosa"
    earlier, later = datetime(2026, 11, 25, 9, tzinfo=TIMEZONE), datetime(2026, 11, 25, 10, tzinfo=TIMEZONE)
    tie = {"Hugo": 1, "Rosa": 1}
    assert (
        routing.choose_agent(business, "support", "es", WEDNESDAY_15, tie, {"Hugo": later, "Rosa": earlier}).name
        == "Rosa"
    )
    full = {"Hugo": 2, "Rosa": 2}
    assert routing.choose_agent(business, "support", "es", WEDNESDAY_15, full, last) is None


def test_nobody_available_queues_the_case(store, business):
    for n in range(3):  # Eva takes 3 at most; Rosa is off until 14:00
        handoff.hand_off(store, business, summary(f"q{n}", topic="payment"), WEDNESDAY_11)
    queued = handoff.hand_off(store, business, summary("q3", topic="payment"), WEDNESDAY_11)
    assert queued.agent is None and queued.case.status == "waiting" and queued.case.team == "sales"
    assert queued.queue == handoff.Queue(place=1, minutes=None)  # no case was taken yet to estimate from


def test_a_waiting_case_knows_its_place_and_a_wait_from_how_long_people_took(store):
    from datetime import timedelta

    taken_at = datetime(2026, 11, 25, 12, 0, tzinfo=TIMEZONE)
    for n, minutes in enumerate((4, 6, 10)):  # three support cases taken 4, 6 and 10 minutes after opening
        case = store.open_case(summary(f"t{n}", topic="injury", reason="sensitive"), team="support")
        store.take(case.id, "Hugo")
        with store.engine.begin() as conn:
            conn.execute(
                cases.update()
                .where(cases.c.id == case.id)
                .values(created_at=taken_at - timedelta(minutes=minutes), taken_at=taken_at)
            )
        store.close(case.conversation_id, by="Hugo")
    first = store.open_case(summary("w1", topic="injury"), team="support")
    second = store.open_case(summary("w2", topic="injury"), team="support")
    assert (first.status, second.status) == ("waiting", "waiting")
    assert handoff.queue_of(store, first) == handoff.Queue(place=1, minutes=6)  # the median
    assert handoff.queue_of(store, second) == handoff.Queue(place=2, minutes=12)
    assert handoff.queue_of(store, store.open_case(summary("w3", topic="payment"), team="sales")).minutes is None


def test_after_hours_the_case_waits_and_says_when_the_team_is_back(store, business):
    result = handoff.hand_off(store, business, summary("n1", name="Lucía"), SUNDAY_NIGHT)
    assert not result.open_now and result.agent is None and result.case.status == "waiting"
    assert result.next_opening == datetime(2026, 11, 30, 10, 0, tzinfo=TIMEZONE)


def test_decisions():
    assert handoff.decide("request_human", "quiero hablar con alguien").reason == "requested"
    assert handoff.decide("injury_report", "me caí de la bici") == handoff.Decision("sensitive", "injury")
    # The classifier said catalogue; the safety net still sees an injury.
    assert handoff.decide("ask_catalogue", "cuanto sale el casco? me caí de la bici ayer").topic == "injury"
    # An angry customer asking for the manager is a complaint first.
    assert handoff.decide("request_human", "pésima atención, quiero hablar con el encargado").reason == "sensitive"
    assert handoff.decide("affirm", "dale", accepted_offer=True, earlier_topic="service") == handoff.Decision(
        "requested", "service"
    )
    assert handoff.decide("out_of_scope", "venden patinetas?").reason == "unsure"
    assert handoff.decide(None, "zzz").reason == "unsure"


def test_details_are_needed_only_after_hours():
    vague = summary("d", topic="general", reason="requested", name="Lucía")
    assert not handoff.needs_details(vague, open_now=True)
    assert handoff.needs_details(vague, open_now=False)  # "a person, please" tells the team nothing
    specific = summary("d", topic="injury", reason="sensitive", name="Lucía")
    assert not handoff.needs_details(specific, open_now=False)
    nameless = summary("d", topic="injury", reason="sensitive")
    assert handoff.needs_details(nameless, open_now=False)


def test_config_errors_are_clear(tmp_path):
    bad = tmp_path / "business.yml"
    bad.write_text("business: {timezone: Mars/Olympus}\n")
    with pytest.raises(config.ConfigError, match="unknown time zone"):
        config.load(bad)
    bad.write_text("agents: [{name: Ana, phone: '123'}]\n")
    with pytest.raises(config.ConfigError, match="Ana"):
        config.load(bad)
