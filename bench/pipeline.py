"""Posta's NLU pipeline taken apart, so one DIET training serves every blend and threshold.

`components.sentence_classifier` blends a logistic regression on sentence embeddings with
DIET's ranking: `weight * DIET + (1 - weight) * LR`. Here DIET is trained by Rasa from
`config.yml`'s featurizers and DIET (without the sentence classifier, the safety net and
the fallback), the regression exactly as the component trains it, and the blend is
computed afterwards: weight 1 is DIET alone, 0 the embeddings alone, `config.yml`'s
weight is the project's pipeline.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import yaml

from components.embeddings import embed
from components.sentence_classifier import SentenceEmbeddingClassifier
from posta.config import business_dir

ROOT = Path(__file__).resolve().parent.parent
Ranking = Dict[str, float]


def project_config() -> dict:
    """The config.yml of the business this process serves ($POSTA_BUSINESS)."""
    return yaml.safe_load((business_dir() / "config.yml").read_text())


def configured(name: str, key: str):
    """A setting of one pipeline component in config.yml (e.g. the blend weight)."""
    component = next(c for c in project_config()["pipeline"] if c["name"].endswith(name))
    return component.get(key, SentenceEmbeddingClassifier.get_default_config().get(key))


ENCODER = configured("SentenceEmbeddingClassifier", "encoder")


def diet_config(
    spacy_model: Optional[str] = None, language: Optional[str] = None, epochs: Optional[int] = None
) -> dict:
    """config.yml's pipeline up to DIET; optionally another spaCy pipeline and language."""
    config = project_config()
    pipeline = []
    for component in config["pipeline"]:
        if component["name"].startswith("components.") or component["name"] == "FallbackClassifier":
            continue
        component = dict(component)
        if component["name"] == "SpacyNLP" and spacy_model:
            component["model"] = spacy_model
        if component["name"] == "DIETClassifier" and epochs:
            component["epochs"] = epochs
        pipeline.append(component)
    return {
        "recipe": "default.v1",
        "language": language or config["language"],
        "pipeline": pipeline,
        "assistant_id": "posta-nlu-benchmark",
    }


def write_nlu(examples: Sequence[Tuple[str, str]], path: Path) -> Path:
    by_intent: Dict[str, List[str]] = {}
    for text, label in examples:
        by_intent.setdefault(label, []).append(" ".join(text.split()))
    nlu = {
        "version": "3.1",
        "nlu": [
            {"intent": label, "examples": "".join(f"- {t}\n" for t in texts)} for label, texts in by_intent.items()
        ],
    }
    path.write_text(yaml.safe_dump(nlu, allow_unicode=True, width=10_000))
    return path


def train_diet(config: dict, nlu: Path, work: Path, name: str) -> Tuple[Path, float]:
    """`rasa train nlu`; returns the model and how many seconds it took."""
    work.mkdir(parents=True, exist_ok=True)
    config_path = work / f"{name}.config.yml"
    config_path.write_text(yaml.safe_dump(config))
    started = time.time()
    subprocess.run(
        [
            str(ROOT / ".venv/bin/rasa"),
            "train",
            "nlu",
            "--config",
            str(config_path),
            "--nlu",
            str(nlu),
            "--out",
            str(work),
            "--fixed-model-name",
            name,
        ],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    return work / f"{name}.tar.gz", time.time() - started


def diet_rankings(model: Path, texts: Sequence[str]) -> List[Ranking]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def parse_all():
        return [await agent.parse_message(t) for t in texts]

    return [{r["name"]: r["confidence"] for r in p.get("intent_ranking", [])} for p in asyncio.run(parse_all())]


def train_embedding_classifier(examples: Sequence[Tuple[str, str]], encoder: Optional[str] = None):
    """The component's regression (`components.sentence_classifier.Trained`), as config.yml sets it."""
    from components.sentence_classifier import Trained

    texts, labels = zip(*examples)
    return Trained.fit(list(texts), list(labels), configured("SentenceEmbeddingClassifier", "C"), encoder or ENCODER)


def embedding_rankings(trained, texts: Sequence[str], encoder: Optional[str] = None) -> List[Ranking]:
    return trained.rankings(embed(list(texts), encoder or ENCODER))


def blend(diet: Ranking, emb: Ranking, weight: float) -> List[Tuple[str, float]]:
    """As the component does it, best first."""
    names = set(diet) | set(emb)
    scores = {n: weight * diet.get(n, 0.0) + (1 - weight) * emb.get(n, 0.0) for n in names}
    return sorted(scores.items(), key=lambda item: -item[1])
