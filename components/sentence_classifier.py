"""An intent classifier fed sentence embeddings directly (logistic regression), and the
evidence the handoff decision needs.

On held-out messages it beats DIET given the same embeddings as extra features, and it
carries Spanish and English in one space. It can blend its probabilities with an
intent ranking an earlier classifier (DIET) already put on the message: `diet_weight`
0 ignores DIET, 1 keeps only DIET. `encoder` chooses the embeddings (`use`, `e5`,
`use+e5`; see `components.embeddings`).

Besides the ranking it puts `posta_evidence` on the message (`posta.risk.Evidence`):
the regression's ranking of each sentence of a long message, how similar the message is
to its nearest training example and to its nearest small-talk example, and how many
words it has. `components.handoff_risk` decides with it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any, Dict, List, Optional, Sequence, Text

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.linear_model import LogisticRegression

from components.embeddings import embed
from posta import risk, topics

logger = logging.getLogger(__name__)
MODEL_FILE = "sentence_classifier.joblib"
EVIDENCE = "posta_evidence"


class Trained:
    """The regression and what it was trained on (for nearest-example similarity)."""

    def __init__(self, model: LogisticRegression, examples: np.ndarray, labels: Sequence[str]) -> None:
        self.model, self.examples, self.labels = model, examples.astype(np.float32), np.asarray(labels)

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], C: float, encoder: str) -> "Trained":
        features = embed(list(texts), encoder)
        model = LogisticRegression(C=C, max_iter=3000, class_weight="balanced").fit(features, list(labels))
        return cls(model, features, labels)

    def rankings(self, features: np.ndarray) -> List[Dict[str, float]]:
        return [dict(zip(self.model.classes_, row.tolist())) for row in self.model.predict_proba(features)]

    def evidence(
        self,
        texts: Sequence[str],
        encoder: str,
        small_talk: Sequence[str],
        sensitive: Sequence[str],
        rankings: Sequence[Dict[str, float]],
        out_of_scope: str = "out_of_scope",
    ) -> List[risk.Evidence]:
        """Evidence for each text, given its (possibly blended) ranking."""
        features = embed(list(texts), encoder)
        similarity = features @ self.examples.T
        small, touchy = np.isin(self.labels, list(small_talk)), np.isin(self.labels, list(sensitive))
        parts = [risk.sentences(t) for t in texts]
        flat = [p for ps in parts for p in ps]
        part_rankings = iter(self.rankings(embed(flat, encoder)) if flat else [])
        found = []
        for text, ranking, row, ps in zip(texts, rankings, similarity, parts):
            top = max(ranking, key=ranking.get)
            closest_sensitive = int(np.argmax(np.where(touchy, row, -np.inf))) if touchy.any() else None
            found.append(
                risk.Evidence(
                    ranking=dict(ranking),
                    sentence_rankings=[next(part_rankings) for _ in ps],
                    nearest=_most(row, None),
                    nearest_small_talk=_most(row, small),
                    nearest_top=_most(row, self.labels == top),
                    nearest_out_of_scope=_most(row, self.labels == out_of_scope),
                    nearest_sensitive=_most(row, touchy),
                    nearest_sensitive_intent=str(self.labels[closest_sensitive])
                    if closest_sensitive is not None
                    else "",
                    words=risk.words(text),
                )
            )
        return found


def _most(row: np.ndarray, mask: Optional[np.ndarray]) -> float:
    """The highest similarity in `row` (among `mask`), 0 when there is none."""
    values = row if mask is None else row[mask]
    return float(values.max()) if values.size else 0.0


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class SentenceEmbeddingClassifier(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "C": 10.0,
            "diet_weight": 0.0,
            "ranking_length": 10,
            "encoder": "use",
            "small_talk_intents": sorted(topics.current().small_talk),
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        trained: Optional[Trained] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self.trained = trained

    @classmethod
    def create(cls, config, model_storage, resource, execution_context: ExecutionContext):
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config, model_storage, resource, execution_context, **kwargs):
        try:
            with model_storage.read_from(resource) as directory:
                trained = joblib.load(directory / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("No trained sentence classifier in the model; it will not classify.")
            trained = None
        return cls(config, model_storage, resource, trained)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT)]
        if not examples:
            return self._resource
        self.trained = Trained.fit(
            [e.get(TEXT) for e in examples], [e.get(INTENT) for e in examples], self.config["C"], self.config["encoder"]
        )
        with self._storage.write_to(self._resource) as directory:
            joblib.dump(self.trained, directory / MODEL_FILE)
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        if self.trained is None:
            return messages
        texts = [m.get(TEXT) or "" for m in messages]
        own = self.trained.rankings(embed(texts, self.config["encoder"]))
        rankings = [
            blend(scores, m.get(INTENT_RANKING_KEY) or [], self.config["diet_weight"])
            for scores, m in zip(own, messages)
        ]
        evidence = self.trained.evidence(
            texts,
            self.config["encoder"],
            self.config["small_talk_intents"],
            sorted(topics.current().sensitive_intents),
            [dict(r) for r in rankings],
        )
        for message, ranking, seen in zip(messages, rankings, evidence):
            ranked = [{"name": name, "confidence": float(p)} for name, p in ranking]
            message.set(INTENT, ranked[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranked[: self.config["ranking_length"]], add_to_output=True)
            message.set(EVIDENCE, asdict(seen))
        return messages


def blend(scores: Dict[str, float], earlier: List[Dict[str, Any]], diet_weight: float) -> List[tuple]:
    """`diet_weight` of the earlier classifier's ranking (DIET) and the rest of `scores`, best first."""
    weight = float(diet_weight) if earlier else 0.0
    diet = {entry["name"]: entry["confidence"] for entry in earlier}
    blended = {name: (1 - weight) * p + weight * diet.get(name, 0.0) for name, p in scores.items()}
    return sorted(blended.items(), key=lambda item: -item[1])
