"""`make validate` finds what a designer or an owner gets wrong, and says where and what to write."""

import shutil
from pathlib import Path

import pytest
import yaml

from posta import validate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path):
    """A copy of the project's own Rasa files and business.yml, to break."""
    for name in ("domain.yml", "business.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return tmp_path


def edit(path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


def test_the_shipped_project_is_consistent():
    assert validate.check() == []


def test_a_mistyped_topic_in_a_team_is_named_with_the_known_ones(project):
    edit(project / "business.yml", lambda b: b["teams"]["support"]["topics"].__setitem__(0, "complaints"))
    problems = [str(p) for p in validate.check(project)]
    assert any(
        p.startswith("business.yml: teams.support.topics: complaints: no intent has this topic") and "complaint" in p
        for p in problems
    )
    assert any(p.startswith("business.yml: topic complaint: list it under") for p in problems)


def test_an_intent_without_a_topic(project):
    edit(project / "domain.yml", lambda d: d["intents"].append("ask_parking"))
    assert [str(p) for p in validate.check(project)] == [
        'domain.yml: intent ask_parking: give it a topic in posta/topics.py (INTENT_TOPICS["ask_parking"] = '
        '"<topic>") or make it small talk'
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
