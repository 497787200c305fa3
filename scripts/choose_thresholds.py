"""Chooses the handoff thresholds (`components.handoff_risk` in config.yml) on held-out data.

    python scripts/choose_thresholds.py [--encoder use+e5] [--folds 5] [--out docs/nlu_experiments.md]

The thresholds are chosen on messages the classifiers did not learn from: the validation
set (`eval/nlu_validation.yml`) and, because it alone is too easy to tell thresholds
apart (its errors were read to improve the training data), every training example
scored by models trained without it (K-fold). Each fold trains DIET as config.yml does
(`bench.pipeline`) and the sentence-embedding regression as its component does; the
blend and the decision are the components' own code. The test set
(`eval/nlu_test.yml`) only reports. The hard set (`eval/nlu_hard.yml`) is never read
here: `make bench` reports on it.

The choice: no missed sensitive case and no missed request for a person on the validation
set, then the lowest cost over every held-out message, with a missed sensitive case or
request counting as 20 unnecessary handoffs and a missed "unsure" message (the bot
answered what it could not) as 3. (Zero misses on the out-of-fold examples too would
hand off a third of the answerable ones: some training examples are one of a kind.)
Ties go to the thresholds that hand off more.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import pipeline  # noqa: E402
from components import handoff_risk  # noqa: E402
from components.sentence_classifier import Trained, blend  # noqa: E402
from posta import config, lexicon, risk, topics  # noqa: E402

WORK = ROOT / "results" / "thresholds"
PERSON_COST = 20  # a missed sensitive case or request counts as this many unnecessary handoffs
UNSURE_COST = 3  # a missed "unsure" message counts as this many unnecessary handoffs
SMALL_TALK = pipeline.configured("SentenceEmbeddingClassifier", "small_talk_intents")
Example = Tuple[str, str]


def load_examples(path: Path) -> List[Example]:
    from rasa.shared.nlu.training_data.loading import load_data

    return [(m.get("text"), m.get("intent")) for m in load_data(str(path)).intent_examples]


def kind(intent: str) -> str:
    """What the bot does with an intent: 'answer', or the handoff reason."""
    return topics.current().need(intent)


# -- scoring messages as the pipeline does ------------------------------------------------


def diet_rankings(train: Sequence[Example], texts: Sequence[str], name: str) -> List[Dict[str, float]]:
    """DIET's rankings of `texts` when trained on `train` (cached by content)."""
    key = hashlib.sha1(json.dumps([list(train), list(texts), pipeline.diet_config()]).encode()).hexdigest()[:16]
    cached = WORK / f"diet-{name}-{key}.json"
    if cached.exists():
        return json.loads(cached.read_text())
    nlu = pipeline.write_nlu(train, WORK / f"{name}.nlu.yml")
    model, seconds = pipeline.train_diet(pipeline.diet_config(), nlu, WORK, f"diet-{name}")
    print(f"DIET ({name}) trained in {seconds:.0f} s", flush=True)
    rankings = pipeline.diet_rankings(model, list(texts))
    cached.write_text(json.dumps(rankings))
    model.unlink()
    return rankings


def evidence(
    train: Sequence[Example], texts: Sequence[str], name: str, encoder: str, C: float, weight: float
) -> List[risk.Evidence]:
    trained = Trained.fit([t for t, _ in train], [i for _, i in train], C, encoder)
    from components.embeddings import embed

    own = trained.rankings(embed(list(texts), encoder))
    diet = diet_rankings(train, texts, name)
    rankings = [dict(blend(o, [{"name": k, "confidence": v} for k, v in d.items()], weight)) for o, d in zip(own, diet)]
    return trained.evidence(list(texts), encoder, SMALL_TALK, sorted(topics.current().sensitive_intents), rankings)


def out_of_fold(train: Sequence[Example], folds: int, encoder: str, C: float, weight: float):
    """Every training example, scored by models trained on the other folds."""
    order = np.random.RandomState(7).permutation(len(train))
    scored: List[Tuple[Example, risk.Evidence]] = []
    for fold in range(folds):
        held = set(order[fold::folds].tolist())
        learn = [x for i, x in enumerate(train) if i not in held]
        kept = [x for i, x in enumerate(train) if i in held]
        scored += list(zip(kept, evidence(learn, [t for t, _ in kept], f"fold{fold}of{folds}", encoder, C, weight)))
    return scored


# -- deciding and counting -----------------------------------------------------------------


def outcomes(scored, thresholds: risk.Thresholds) -> Dict[str, int]:
    counts: Counter = Counter()
    for (text, gold), seen in scored:
        tally(counts, kind(gold), kind(handoff_risk.decide(seen, text, thresholds, SMALL_TALK).intent))
    return counts


def tally(counts: Counter, want: str, got: str) -> None:
    """Counts one message: what it needed (`want`) against what was decided (`got`)."""
    counts[f"needs_{want}"] += 1
    if want == "answer":
        counts["unnecessary"] += got != "answer"
    elif got == "answer":
        counts[f"missed_{want}"] += 1


def cost(counts: Dict[str, int]) -> int:
    missed_person = counts.get("missed_sensitive", 0) + counts.get("missed_requested", 0)
    return PERSON_COST * missed_person + UNSURE_COST * counts.get("missed_unsure", 0) + counts.get("unnecessary", 0)


def choose(validation, others, passes: int = 3) -> Tuple[risk.Thresholds, Dict[str, int]]:
    """Each threshold in turn over its candidates, the others held, until nothing improves."""
    scored = validation + others
    nearest = np.array([seen.nearest for _, seen in scored])
    small = np.array([seen.nearest_small_talk for _, seen in scored])
    margins = [risk.OFF, 0.1, 0.05, 0.02, 0.0, -0.02, -0.05]
    candidates = {
        "sensitive": np.round(np.arange(0.05, 0.61, 0.025), 3),
        "closer_sensitive": margins,
        "familiar": [0.0] + sorted(set(np.round(np.quantile(nearest, [0.005, 0.01, 0.02, 0.03, 0.05, 0.08]), 3))),
        "closer_out_of_scope": margins,
        "small_talk": [0.0] + sorted(set(np.round(np.quantile(small, [0.05, 0.1, 0.2, 0.3]), 3))),
        "fallback": np.round(np.arange(0.1, 0.61, 0.05), 3),
    }

    def key(thresholds: risk.Thresholds):
        on_validation = outcomes(validation, thresholds)
        counts = outcomes(scored, thresholds)
        missed_person = on_validation.get("missed_sensitive", 0) + on_validation.get("missed_requested", 0)
        handing_off_more = (
            -thresholds.sensitive,
            thresholds.closer_sensitive,
            -thresholds.familiar,
            thresholds.closer_out_of_scope,
            -thresholds.small_talk,
            -thresholds.fallback,
        )
        return (missed_person, cost(counts), *handing_off_more), counts

    current = risk.Thresholds()
    best_key, best_counts = key(current)
    for _ in range(passes):
        improved = False
        for name, values in candidates.items():
            for value in values:
                trial = risk.Thresholds(**{**current.__dict__, name: float(value)})
                trial_key, counts = key(trial)
                if trial_key < best_key:
                    current, best_key, best_counts, improved = trial, trial_key, counts, True
        if not improved:
            break
    return current, best_counts


def before(scored) -> Dict[str, int]:
    """The decision this replaced: the top intent, the lexicon when it says otherwise, and
    Rasa's FallbackClassifier at 0.3."""
    counts: Counter = Counter()
    for (text, gold), seen in scored:
        top = seen.top
        hit = lexicon.match(text) if top not in topics.current().handoff_intents - {topics.OUT_OF_SCOPE} else None
        intent = lexicon.intent_for(hit.category) if hit else (top if seen.ranking[top] >= 0.3 else risk.FALLBACK)
        tally(counts, kind(gold), kind(intent))
    return counts


def row(name: str, counts: Dict[str, int]) -> str:
    needs = {k: counts.get(f"needs_{k}", 0) for k in ("requested", "sensitive", "unsure", "answer")}
    return (
        f"| {name} | {counts.get('missed_requested', 0)} of {needs['requested']} | "
        f"{counts.get('missed_sensitive', 0)} of {needs['sensitive']} | {counts.get('missed_unsure', 0)} of "
        f"{needs['unsure']} | {counts.get('unnecessary', 0)} of {needs['answer']} "
        f"({counts.get('unnecessary', 0) / max(needs['answer'], 1):.1%}) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--encoder", default=pipeline.configured("SentenceEmbeddingClassifier", "encoder"))
    parser.add_argument("--C", type=float, default=pipeline.configured("SentenceEmbeddingClassifier", "C"))
    parser.add_argument("--folds", type=int, default=5)
    business = config.business_dir()
    shipped_demo = business.resolve() == ROOT
    parser.add_argument(
        "--out",
        default=str(ROOT / "docs" / "nlu_experiments.md" if shipped_demo else business / "eval" / "thresholds.md"),
    )
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    weight = pipeline.configured("SentenceEmbeddingClassifier", "diet_weight")
    train = load_examples(business / "data" / "nlu")
    validation = load_examples(business / "eval" / "nlu_validation.yml")
    test = load_examples(business / "eval" / "nlu_test.yml")

    held_out = out_of_fold(train, args.folds, args.encoder, args.C, weight)
    texts = [t for t, _ in validation + test]
    full = evidence(train, texts, "all", args.encoder, args.C, weight)
    scored_validation = list(zip(validation, full[: len(validation)]))
    scored_test = list(zip(test, full[len(validation) :]))
    chosen, selection = choose(scored_validation, held_out)
    mass_only = risk.Thresholds(sensitive=0.2, fallback=0.3)
    lines = [
        "# Handoff thresholds",
        "",
        f"Encoder `{args.encoder}` (C = {args.C}), blended with DIET at weight {weight}. Chosen on "
        f"{len(held_out)} training examples scored out of fold ({args.folds} folds) and the "
        f"{len(validation)} validation messages: no missed sensitive case or request on the validation set, then "
        f"the lowest cost, a missed sensitive case or request counting as {PERSON_COST} unnecessary handoffs and a "
        f"missed unsure message as {UNSURE_COST} (`scripts/choose_thresholds.py`). The test set only reports.",
        "",
        "Chosen: " + ", ".join(f"{k} {v}" for k, v in chosen.__dict__.items()) + ".",
        "",
        "| decision | missed requested | missed sensitive | missed unsure | unnecessary handoffs |",
        "|---|---|---|---|---|",
        row("selection set (out of fold + validation), chosen", selection),
        row("test: top intent, lexicon, fallback 0.3 (before)", before(scored_test)),
        row("test: sensitive mass 0.2, fallback 0.3 + lexicon", outcomes(scored_test, mass_only)),
        row("test: chosen", outcomes(scored_test, chosen)),
    ]
    errors = [
        f"{kind(g)} -> {handoff_risk.decide(s, t, chosen, SMALL_TALK).intent}: {t}"
        for (t, g), s in scored_test
        if (kind(g) == "answer") != (kind(handoff_risk.decide(s, t, chosen, SMALL_TALK).intent) == "answer")
    ]
    (WORK / f"test-errors-{args.encoder}.txt").write_text("\n".join(errors) + "\n")
    (WORK / f"chosen-{args.encoder}.json").write_text(json.dumps(chosen.__dict__))
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(yaml.safe_dump(chosen.__dict__, sort_keys=False))


if __name__ == "__main__":
    main()
