"""The intents the code hands off (posta.topics) are exactly those the conversation design
(data/*.yml rules) answers with action_handoff: if the two drift apart, a message the core
and the benchmarks count as a handoff gets an FAQ answer, or the other way round."""

from pathlib import Path

import yaml

from posta.topics import HANDOFF_INTENTS, REQUEST_INTENTS, SENSITIVE_INTENTS, UNSURE_INTENTS

ROOT = Path(__file__).resolve().parents[2]
HANDOFF = "action_handoff"
NLU_FALLBACK = "nlu_fallback"  # Rasa's FallbackClassifier's intent, not in domain.yml


def rules():
    for path in sorted((ROOT / "data").rglob("*.yml")):
        for rule in (yaml.safe_load(path.read_text()) or {}).get("rules") or []:
            yield f"{path.relative_to(ROOT)}: {rule['rule']}", rule


def steps(rule):
    return [(kind, step[kind]) for step in rule.get("steps") or [] for kind in ("intent", "action") if kind in step]


def opening_intent(rule):
    """The intent a rule opens with, when nothing comes before it (no condition, no action)."""
    first = steps(rule)[:1]
    if rule.get("condition") or not first or first[0][0] != "intent":
        return None
    return first[0][1]


def test_every_intent_the_code_hands_off_opens_a_rule_that_hands_off_and_no_other():
    handed_off = {
        opening_intent(rule) for _, rule in rules() if opening_intent(rule) and steps(rule)[1:] == [("action", HANDOFF)]
    }
    assert handed_off == set(HANDOFF_INTENTS)
    for name, rule in rules():  # a handoff intent never opens a rule that does something else
        if opening_intent(rule) in HANDOFF_INTENTS:
            assert steps(rule)[1:] == [("action", HANDOFF)], name


def test_the_other_handoff_rules_are_an_accepted_offer_or_a_finished_form():
    """What action_handoff reads as `accepted_offer` (a yes right after an utter_offer_*
    response), or the after-hours form finishing; no other way into a handoff."""
    for name, rule in rules():
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


def test_the_handoff_intents_are_the_domains_and_each_has_one_reason():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    intents = {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}
    assert HANDOFF_INTENTS - {NLU_FALLBACK} <= intents
    assert not (
        REQUEST_INTENTS & SENSITIVE_INTENTS or REQUEST_INTENTS & UNSURE_INTENTS or SENSITIVE_INTENTS & UNSURE_INTENTS
    )
