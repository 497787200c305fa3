"""In every shipped business, the intents the core hands off (its topics.yml) are exactly
those its conversation design (data/*.yml rules) answers with action_handoff: if the two
drift apart, a message the core and the benchmarks count as a handoff gets an FAQ answer,
or the other way round."""

from pathlib import Path

import pytest
import yaml

from deploy.processes import DEMO, RESTAURANT, ROOT
from posta import topics

HANDOFF = "action_handoff"
NLU_FALLBACK = "nlu_fallback"  # Rasa's FallbackClassifier's intent, not in domain.yml
SHIPPED = pytest.mark.parametrize("business", [ROOT / DEMO, ROOT / RESTAURANT], ids=["optician", "restaurant"])


def rules(business: Path):
    for path in sorted((business / "data").rglob("*.yml")):
        for rule in (yaml.safe_load(path.read_text()) or {}).get("rules") or []:
            yield f"{path.relative_to(business)}: {rule['rule']}", rule


def steps(rule):
    return [(kind, step[kind]) for step in rule.get("steps") or [] for kind in ("intent", "action") if kind in step]


def opening_intent(rule):
    """The intent a rule opens with, when nothing comes before it (no condition, no action)."""
    first = steps(rule)[:1]
    if rule.get("condition") or not first or first[0][0] != "intent":
        return None
    return first[0][1]


@SHIPPED
def test_every_intent_the_code_hands_off_opens_a_rule_that_hands_off_and_no_other(business):
    handoff_intents = topics.load(business / topics.FILE).handoff_intents
    handed_off = {
        opening_intent(rule)
        for _, rule in rules(business)
        if opening_intent(rule) and steps(rule)[1:] == [("action", HANDOFF)]
    }
    assert handed_off == set(handoff_intents)
    for name, rule in rules(business):  # a handoff intent never opens a rule that does something else
        if opening_intent(rule) in handoff_intents:
            assert steps(rule)[1:] == [("action", HANDOFF)], name


@SHIPPED
def test_the_other_handoff_rules_are_an_accepted_offer_or_a_finished_form(business):
    """What action_handoff reads as `accepted_offer` (a yes right after an utter_offer_*
    response), or the after-hours form finishing; no other way into a handoff."""
    for name, rule in rules(business):
        path = steps(rule)
        if not path or path[-1] != ("action", HANDOFF) or opening_intent(rule):
            continue
        intents = [value for kind, value in path if kind == "intent"]
        if intents:
            assert len(path) >= 3 and path[-2:] == [("intent", "affirm"), ("action", HANDOFF)], name
            offered = path[-3]
            assert offered[0] == "action" and offered[1].startswith("utter_offer_"), name
        else:
            assert rule.get("condition") and any("active_loop" in c for c in rule["condition"]), name


@SHIPPED
def test_the_handoff_intents_are_the_domains_and_each_has_one_reason(business):
    loaded = topics.load(business / topics.FILE)
    domain = yaml.safe_load((business / "domain.yml").read_text())
    intents = {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}
    assert loaded.handoff_intents - {NLU_FALLBACK} <= intents
    request, sensitive, unsure = loaded.request_intents, loaded.sensitive_intents, loaded.unsure_intents
    assert not (request & sensitive or request & unsure or sensitive & unsure)
