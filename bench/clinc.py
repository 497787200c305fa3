"""Out-of-scope detection on CLINC150 (Larson et al., 2019) with Posta's own NLU pipeline.

The pipeline is `config.yml`'s, with only the language-specific part swapped: the spaCy
pipeline is a blank English one with English lemma lookups (`models/spacy-en`) instead of
the Spanish+English one. The lexicon safety net is left out: its phrases are about an
optical store, not about CLINC's 150 intents. The blend and the FallbackClassifier are
applied here on DIET's and the regression's outputs (`bench.pipeline`), so one training
serves the project's blend, DIET alone and the embeddings alone, at every threshold.

- oos-threshold: trained on the 150 in-scope intents; a message is out of scope when the
  top confidence is under the threshold, or when its nearest training example is less
  similar than the "familiar" threshold (as `components.handoff_risk` decides unsure).
- oos-train: `oos_train` is one more intent, `oos`; out of scope when predicted `oos` or
  by the same two thresholds.

Thresholds are chosen on the validation split, two ways: the best in-scope accuracy +
out-of-scope recall, and the best out-of-scope recall that keeps validation in-scope
accuracy at 95% or more (the target). The test split only reports, with the AUROC of the
out-of-scope score (one minus the top confidence) for each pipeline.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from bench import pipeline

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "clinc150" / "data_full.json"
ENGLISH_SPACY = ROOT / "models" / "spacy-en"
THRESHOLDS = tuple(round(t, 3) for t in np.arange(0.0, 1.0, 0.01))
TARGET_IN_SCOPE = 0.95
FAMILIAR_QUANTILES = (0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2)  # of the in-scope validation messages' similarity
PAPER = [  # Larson et al. 2019, Table 2, oos-threshold, "Full" data
    ("Rasa (2019), oos-threshold, from the paper", 0.909, 0.312),
    ("BERT, oos-threshold, from the paper", 0.962, 0.523),
]
OOS = "oos"
PROJECT_WEIGHT = pipeline.configured("SentenceEmbeddingClassifier", "diet_weight")
WEIGHTS = (PROJECT_WEIGHT, 0.0, 1.0)
PIPELINES = {PROJECT_WEIGHT: "Posta (config.yml)", 0.0: "embeddings + LR only", 1.0: "DIET only"}


def load(intents: Optional[int] = None) -> Dict[str, List[Tuple[str, str]]]:
    """The splits, optionally cut to the first `intents` intents (quick mode) with a
    proportional share of the out-of-scope examples."""
    data = json.loads(DATA.read_text())
    if intents:
        keep = sorted({label for _, label in data["train"]})[:intents]
        share = intents / 150
        for split in ("train", "val", "test"):
            data[split] = [x for x in data[split] if x[1] in keep]
        for split in ("oos_train", "oos_val", "oos_test"):
            data[split] = data[split][: max(10, int(len(data[split]) * share))]
    return {k: [(text, label) for text, label in v] for k, v in data.items()}


def train(examples: Sequence[Tuple[str, str]], work: Path, name: str, epochs: Optional[int] = None):
    """DIET through Rasa (English spaCy pipeline), and the embedding regression."""
    if not ENGLISH_SPACY.exists():
        subprocess.run(
            [str(ROOT / ".venv/bin/python"), str(ROOT / "scripts/build_spacy_pipeline.py"), str(ENGLISH_SPACY), "en"],
            check=True,
            cwd=ROOT,
        )
    work.mkdir(parents=True, exist_ok=True)
    config = pipeline.diet_config(spacy_model=str(ENGLISH_SPACY), language="en", epochs=epochs)
    model, seconds = pipeline.train_diet(config, pipeline.write_nlu(examples, work / f"{name}.nlu.yml"), work, name)
    started = time.time()
    classifier = pipeline.train_embedding_classifier(examples)
    return model, classifier, seconds + time.time() - started


def predict(model: Path, classifier, texts: Sequence[str]) -> Dict[float, List[Tuple[str, float, float]]]:
    """Top intent, its confidence and the nearest training example's similarity, per blend weight."""
    from components.embeddings import embed

    diet = pipeline.diet_rankings(model, texts)
    features = embed(list(texts), pipeline.ENCODER)
    emb = classifier.rankings(features)
    nearest = np.concatenate(
        [(features[i : i + 512] @ classifier.examples.T).max(axis=1) for i in range(0, len(texts), 512)]
    )
    return {w: [(*pipeline.blend(d, e, w)[0], float(n)) for d, e, n in zip(diet, emb, nearest)] for w in WEIGHTS}


def score(gold: Sequence[str], predicted, threshold: float, familiar: float = 0.0) -> Dict[str, float]:
    labels = [
        OOS if (intent == OOS or confidence < threshold or near < familiar) else intent
        for intent, confidence, near in predicted
    ]
    in_scope = [i for i, g in enumerate(gold) if g != OOS]
    oos = [i for i, g in enumerate(gold) if g == OOS]
    flagged = [i for i, label in enumerate(labels) if label == OOS]
    recall = sum(labels[i] == OOS for i in oos) / max(len(oos), 1)
    precision = sum(gold[i] == OOS for i in flagged) / max(len(flagged), 1)
    return {
        "in_scope_accuracy": sum(labels[i] == gold[i] for i in in_scope) / max(len(in_scope), 1),
        "oos_recall": recall,
        "oos_precision": precision,
        "oos_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
    }


def auroc(gold: Sequence[str], predicted) -> float:
    from sklearn.metrics import roc_auc_score

    return float(
        roc_auc_score(
            [g == OOS for g in gold],
            [1.0 if intent == OOS else 1.0 - confidence for intent, confidence, _ in predicted],
        )
    )


def choose(gold, predicted) -> Dict[str, Tuple[float, float]]:
    """The two (threshold, familiar) pairs, chosen on validation."""
    near_in_scope = [n for g, (_, _, n) in zip(gold, predicted) if g != OOS]
    familiar = sorted({0.0} | {float(np.quantile(near_in_scope, q)) for q in FAMILIAR_QUANTILES if q})
    scored = [((t, f), score(gold, predicted, t, f)) for t in THRESHOLDS for f in familiar]
    balanced = max(scored, key=lambda item: item[1]["in_scope_accuracy"] + item[1]["oos_recall"])[0]
    within = [(s["oos_recall"], pair) for pair, s in scored if s["in_scope_accuracy"] >= TARGET_IN_SCOPE]
    return {"balanced": balanced, "target": max(within)[1] if within else (0.0, 0.0)}


def run(intents: Optional[int] = None, epochs: Optional[int] = None, work: Optional[Path] = None) -> Dict:
    """Both variants, every blend weight; returns rows for the report."""
    data = load(intents)
    work = work or ROOT / "results" / "bench" / ("clinc-quick" if intents else "clinc")
    val = data["val"] + data["oos_val"]
    test = data["test"] + data["oos_test"]
    rows, timings = [], {}
    for variant in ("oos-threshold", "oos-train"):
        train_set = data["train"] + (data["oos_train"] if variant == "oos-train" else [])
        model, classifier, seconds = train(train_set, work, variant, epochs)
        timings[variant] = seconds
        val_pred = predict(model, classifier, [t for t, _ in val])
        test_pred = predict(model, classifier, [t for t, _ in test])
        for weight in WEIGHTS:
            chosen = choose([g for _, g in val], val_pred[weight])
            test_gold = [g for _, g in test]
            for rule, (threshold, familiar) in chosen.items():
                rows.append(
                    {
                        "variant": variant,
                        "pipeline": PIPELINES[weight],
                        "weight": weight,
                        "rule": rule,
                        "threshold": threshold,
                        "familiar": round(familiar, 3),
                        "auroc": auroc(test_gold, test_pred[weight]),
                        **score(test_gold, test_pred[weight], threshold, familiar),
                    }
                )
    return {
        "intents": intents or 150,
        "train_examples": len(data["train"]),
        "test_in_scope": len(data["test"]),
        "test_oos": len(data["oos_test"]),
        "rows": rows,
        "train_seconds": timings,
        "paper": PAPER,
    }
