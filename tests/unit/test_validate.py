"""`make validate` finds what a designer or an owner gets wrong, and says where and what to write."""

import shutil

import pytest
import yaml

from deploy.processes import DEMO, RESTAURANT, ROOT
from posta import validate


@pytest.fixture
def project(tmp_path):
    """A copy of the demo's Rasa files, business.yml and topics.yml, to break."""
    for name in ("domain.yml", "business.yml", "topics.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return tmp_path


def edit(path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


@pytest.mark.parametrize("business", [DEMO, RESTAURANT])
def test_the_shipped_businesses_are_consistent(business):
    assert validate.check(ROOT / business) == []


def test_a_mistyped_topic_in_a_team_is_named_with_the_known_ones(project):
    edit(project / "business.yml", lambda b: b["teams"]["support"]["topics"].__setitem__(0, "complaints"))
    problems = [str(p) for p in validate.check(project)]
    assert any(
        p.startswith("business.yml: teams.support.topics: complaints: no such topic in topics.yml") and "complaint" in p
        for p in problems
    )
    assert any(p.startswith("business.yml: topic complaint: list it under") for p in problems)


def test_an_intent_without_a_topic(project):
    edit(project / "domain.yml", lambda d: d["intents"].append("ask_parking"))
    assert [str(p) for p in validate.check(project)] == [
        "domain.yml: intent ask_parking: list it under a topic's `intents:` in topics.yml (or under small_talk)"
    ]


def test_a_topic_naming_an_intent_the_domain_lacks(project):
    edit(project / "topics.yml", lambda t: t["topics"]["hours"]["intents"].append("ask_opening"))
    assert [str(p) for p in validate.check(project)] == [
        "topics.yml: topics.hours.intents: ask_opening: no such intent in domain.yml"
    ]


def test_a_phrase_that_is_not_a_pattern(project):
    edit(project / "topics.yml", lambda t: t["topics"]["health"]["phrases"]["es"].append("me duele (mucho"))
    [problem] = validate.check(project)
    assert (problem.file, problem.entry) == ("topics.yml", "topics.health.phrases.es: me duele (mucho")
    assert "not a valid pattern" in problem.fix


def test_a_topic_without_its_english_label(project):
    edit(project / "topics.yml", lambda t: t["topics"]["hours"].__setitem__("label", {"es": "horarios"}))
    assert [str(p) for p in validate.check(project)] == [
        "topics.yml: topics.hours.label: add {es: ..., en: ...} (missing en)"
    ]


def test_a_safety_line_for_a_topic_that_does_not_exist(project):
    edit(
        project / "domain.yml",
        lambda d: d["responses"].__setitem__("utter_safety_helth", d["responses"]["utter_greet"]),
    )
    [problem] = validate.check(project)
    assert (problem.file, problem.entry) == ("domain.yml", "response utter_safety_helth")
    assert "no topic helth" in problem.fix and "health" in problem.fix


def test_an_intent_the_core_sends_missing_from_the_domain(project):
    edit(project / "domain.yml", lambda d: d["intents"].remove("media"))
    assert "domain.yml: intents: add media: Posta sends it (docs/your-business.md)" in [
        str(p) for p in validate.check(project)
    ]


def test_a_response_with_no_english(project):
    edit(project / "domain.yml", lambda d: d["responses"]["utter_greet"].pop(0))
    [problem] = validate.check(project)
    assert (problem.file, problem.entry) == ("domain.yml", "response utter_greet")
    assert "value: en" in problem.fix


def test_a_sensitive_intent_the_rules_answer(project):
    def answer_complaints(rules):
        for rule in rules["rules"]:
            if rule["steps"][:1] == [{"intent": "complaint"}]:
                rule["steps"] = [{"intent": "complaint"}, {"action": "utter_anything_else"}]

    edit(project / "data" / "rules.yml", answer_complaints)
    [problem] = validate.check(project)
    assert str(problem) == (
        "data/rules.yml: intent complaint (sensitive topic complaint): add a rule with steps "
        "`- intent: complaint` then `- action: action_handoff`"
    )


def test_a_business_file_that_does_not_load_says_why(project):
    edit(project / "business.yml", lambda b: b["agents"][0].__setitem__("phone", "15-5555"))
    [problem] = validate.check(project)
    assert problem.file == "business.yml" and "phone must be an international number" in problem.fix


def test_a_response_the_core_sends_missing_from_the_domain(project):
    edit(project / "domain.yml", lambda d: d["responses"].pop("utter_handoff_named"))
    assert [str(p) for p in validate.check(project)] == [
        "domain.yml: responses: add utter_handoff_named: Posta sends it, which may say {agent_name} "
        "(docs/your-business.md)"
    ]
