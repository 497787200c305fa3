"""The lexicon safety net as a pipeline step, between the classifiers and the fallback.

When a message contains a phrase that always needs a person (`posta.lexicon`) and the
classifiers said something else, the intent becomes the one that phrase stands for, with
full confidence, so the FallbackClassifier keeps it and the rules hand off. The parse
data records the phrase (`safety_net`), for the summary and for whoever tunes the data.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from posta import lexicon
from posta.topics import HANDOFF_INTENTS


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class HandoffSafetyNet(GraphComponent):
    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "HandoffSafetyNet":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            predicted = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if not text or text.startswith("/") or predicted in HANDOFF_INTENTS - {"out_of_scope"}:
                continue
            hit = lexicon.match(text)
            if hit:
                intent = lexicon.INTENT_FOR_CATEGORY[hit.category]
                chosen = {INTENT_NAME_KEY: intent, "confidence": 1.0}
                message.set(INTENT, chosen, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [chosen], add_to_output=True)
                message.set("safety_net", {"category": hit.category, "phrase": hit.phrase,
                                           "classifier_said": predicted}, add_to_output=True)
        return messages
