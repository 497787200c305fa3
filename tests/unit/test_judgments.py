"""Was a person needed? The judgment's rules, and the precision the reports make of it."""

from posta import judgments, reports
from tests.unit.test_reports import at, scripted_case, store  # noqa: F401  (the scripted store)


def test_only_the_person_who_handled_a_closed_case_judges_it_once(store, business):  # noqa: F811
    eva, hugo = business.agent_by_name("Eva"), business.agent_by_name("Hugo")
    closed = store.get(
        scripted_case(store, "c0", "unsure", "sales", "Eva", at(10), at(10, 2), at(10, 1), at(10, 30)).id
    )
    still_open = scripted_case(store, "c1", "unsure", "sales", "Eva", at(11), at(11, 2), at(11, 1))
    assert judgments.record(store, hugo, closed, "needed") is None  # not his
    assert judgments.record(store, eva, store.get(still_open.id), "needed") is None  # not handed back yet
    assert judgments.record(store, eva, closed, "bot:parking") is None  # no such answer of the bot
    assert judgments.record(store, eva, closed, "bot") == "Gracias: anotado en el caso #1."
    assert judgments.record(store, eva, store.get(closed.id), "bot:hours")  # then with which answer
    assert judgments.record(store, eva, store.get(closed.id), "needed") is None  # once
    judged = store.get(closed.id)
    assert (judged.judgment, judged.judged_topic, judged.judged_by) == ("bot", "hours", "Eva")


def test_precision_by_reason_share_judged_and_possible_misses(store, business):  # noqa: F811
    for name, reason, judgment in [
        ("p0", "requested", "needed"),
        ("p1", "requested", "needed"),
        ("p2", "unsure", "needed"),
        ("p3", "unsure", "bot"),
        ("p4", "unsure", None),
        ("p5", "agent_takeover", "needed"),
    ]:
        case = scripted_case(store, name, reason, "sales", "Eva", at(10), at(10, 2), at(10, 1), at(10, 30))
        if judgment:
            store.judge(case.id, judgment, None, "Eva")
    report = reports.build(store, business, at(0), at(0, day=1))
    assert report.precision["requested"] == {"handoffs": 2, "judged": 2, "needed": 2, "precision": 1.0}
    assert report.precision["unsure"] == {"handoffs": 3, "judged": 2, "needed": 1, "precision": 0.5}
    assert report.judged_share == round(5 / 6, 3)
    assert report.possible_misses == 1  # the takeover the bot did not escalate
    assert report.by_day == [{"day": "2026-11-25", "handoffs": 6, "judged": 5, "precision": 0.8, "possible_misses": 1}]
    assert report.as_dict()["precision"]["unsure"]["precision"] == 0.5  # in the JSON too


def test_a_request_right_after_a_bot_answer_is_a_possible_miss(store):  # noqa: F811
    case = scripted_case(store, "m0", "requested", "sales", "Eva", at(10))
    assert not judgments.possible_miss(case)
    answered = case.summary.__class__(**{**case.summary.__dict__, "answered": ["hours"]})
    assert judgments.possible_miss(case.__class__(**{**case.__dict__, "summary": answered}))
