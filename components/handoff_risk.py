"""The handoff decision as a pipeline step, after the classifiers: by risk, not by the top
intent (`posta.risk`), with the lexicon safety net under it (`posta.lexicon`).

It reads the evidence `components.sentence_classifier` put on the message and sets the
intent the rules act on: a sensitive intent when the sensitive probability mass of the
message or of one of its sentences reaches `sensitive`; `nlu_fallback` (the bot is
unsure) when the message is unfamiliar, has no known word, is taken for small talk
without looking like it, or its top confidence is under `fallback`; the lexicon's intent
when one of its phrases matches; the top intent otherwise. It replaces Rasa's
FallbackClassifier (one place for every threshold, all chosen together on held-out data
by `scripts/choose_thresholds.py`). The parse data keeps what it saw (`handoff_risk`):
the reason, the sensitive mass, the nearest-example similarity and the handoff score.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.sentence_classifier import EVIDENCE
from posta import lexicon, risk, topics

OUTPUT = "handoff_risk"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class HandoffRisk(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **risk.Thresholds().__dict__,
            "small_talk_intents": sorted(topics.current().small_talk),
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.config = {**self.get_default_config(), **config}
        self.thresholds = risk.parse_thresholds(self.config)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "HandoffRisk":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            seen = message.get(EVIDENCE)
            text = message.get(TEXT) or ""
            if seen is None or text.startswith("/"):  # a shortcut the channel sent, or no classifier ran
                continue
            evidence = risk.Evidence(**seen)
            verdict = decide(evidence, text, self.thresholds, self.config["small_talk_intents"])
            ranking = message.get(INTENT_RANKING_KEY) or []
            if verdict.intent != (message.get(INTENT) or {}).get(INTENT_NAME_KEY):
                chosen = {INTENT_NAME_KEY: verdict.intent, "confidence": 1.0}
                message.set(INTENT, chosen, add_to_output=True)
                message.set(
                    INTENT_RANKING_KEY,
                    [chosen] + [r for r in ranking if r["name"] != verdict.intent],
                    add_to_output=True,
                )
            message.set(
                OUTPUT,
                {
                    "reason": verdict.reason,
                    "score": round(score(evidence, self.thresholds), 4),
                    "sensitive_mass": round(evidence.mass(topics.current().sensitive_intents), 4),
                    "nearest": round(evidence.nearest, 4),
                },
                add_to_output=True,
            )
        return messages


def decide(evidence: risk.Evidence, text: str, thresholds: risk.Thresholds, small_talk) -> risk.Verdict:
    """`posta.risk.judge`, with the lexicon under it: unless the verdict is already a person
    (requested, sensitive, an order), a phrase that always needs one wins."""
    business = topics.current()
    verdict = risk.judge(evidence, thresholds, business.sensitive_intents, small_talk, business.handoff_intents)
    if verdict.intent in business.handoff_intents - {topics.OUT_OF_SCOPE, risk.FALLBACK}:
        return verdict
    hit = lexicon.match(text)
    if hit:
        return risk.Verdict(lexicon.intent_for(hit.category), f"lexicon:{hit.category}", 1.0)
    return verdict


def score(evidence: risk.Evidence, thresholds: risk.Thresholds) -> float:
    business = topics.current()
    return risk.handoff_score(evidence, thresholds, business.sensitive_intents, business.handoff_intents)
