"""Handoff decisions on held-out customer messages, never trained or tuned on.

- `eval/nlu_test.yml` (490 messages, written with the project's training data);
- `eval/nlu_hard.yml` (641 messages, written apart and frozen before the risk-aware
  decision was tuned: sensitive cases phrased indirectly, out-of-scope questions in the
  business's words, noise), each message with the language it is written in.

Each message is labelled with an intent; its intent says what the bot must do: answer,
or hand off as `requested`, `sensitive` or `unsure`. The trained model parses it (the
whole pipeline: classifiers, the risk decision, the lexicon) and `posta.handoff.decide`
gives the reason, exactly as action_handoff would. Missed handoffs are counted by reason;
unnecessary handoffs are answerable questions the bot handed off; a wrong-language reply
is a message whose reply language (the detected one, else the default Spanish) is not the
one it was written in; the AUROC says how well the decision's score (`handoff_risk.score`)
ranks what needs a person above what does not.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from deploy import processes
from posta import config, handoff, language, topics

HELD_OUT = {"test": "nlu_test.yml", "hard": "nlu_hard.yml"}  # in the business's eval/


def decided(parsed: Dict) -> str:
    """What the bot does with a parsed message: 'answer' or the handoff reason."""
    intent = parsed["intent"]["name"]
    if intent not in topics.current().handoff_intents:
        return "answer"
    return handoff.decide(intent, parsed.get("text") or "").reason


def load(path: Path, limit: Optional[int] = None, every: int = 1) -> List[Tuple[str, str, Optional[str]]]:
    """(text, intent, language written in) for each example (for a quick run: every
    `every`-th one, at most `limit`)."""
    from rasa.shared.nlu.training_data.loading import load_data

    examples = load_data(str(path)).intent_examples[::every][:limit]
    return [
        (m.get("text"), m.get("intent"), ((m.get("metadata") or {}).get("example") or {}).get("lang")) for m in examples
    ]


def auroc(labels: List[bool], scores: List[float]) -> Optional[float]:
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(labels, scores)), 4) if 0 < sum(labels) < len(labels) else None


def evaluate(agent, examples) -> Dict:
    async def parse_all():
        return [await agent.parse_message(text) for text, _, _ in examples]

    parsed = asyncio.run(parse_all())
    business = topics.current()
    default_language = config.current().default_language
    outcomes = [(text, business.need(gold), decided(p)) for (text, gold, _), p in zip(examples, parsed)]
    needs = Counter(want for _, want, _ in outcomes if want != "answer")
    missed = Counter(want for _, want, got in outcomes if want != "answer" and got == "answer")
    other_reason = sum(1 for _, want, got in outcomes if want not in ("answer", got) and got != "answer")
    answerable = [got for _, want, got in outcomes if want == "answer"]
    by_language: Dict[str, List[bool]] = {}
    for text, want, got in outcomes:
        right = (want == "answer") == (got == "answer")
        by_language.setdefault(language.detect(text) or "unclear", []).append(right)
    written = [(lang, language.detect(text) or default_language) for text, _, lang in examples if lang in ("es", "en")]
    scores = [
        (p.get("handoff_risk") or {}).get("score", 1.0 if p["intent"]["name"] in business.handoff_intents else 0.0)
        for p in parsed
    ]
    return {
        "messages": len(outcomes),
        "needs_person": dict(needs),
        "missed": {reason: missed.get(reason, 0) for reason in ("requested", "sensitive", "unsure")},
        "handed_off_with_another_reason": other_reason,
        "answerable": len(answerable),
        "unnecessary": sum(1 for got in answerable if got != "answer"),
        "unnecessary_rate": round(sum(1 for got in answerable if got != "answer") / max(len(answerable), 1), 4),
        "wrong_language": sum(1 for want, reply in written if want != reply) if written else None,
        "with_language": len(written),
        "auroc": auroc([want != "answer" for _, want, _ in outcomes], scores),
        "right_decision_by_language": {lang: round(sum(v) / len(v), 4) for lang, v in sorted(by_language.items())},
        "missed_examples": [(text, want) for text, want, got in outcomes if want != "answer" and got == "answer"],
        "unnecessary_examples": [(text, got) for text, want, got in outcomes if want == "answer" and got != "answer"],
    }


@contextmanager
def serving(business: str) -> Iterator[None]:
    """This process reads `business`'s files (topics, config) while inside."""
    previous = os.environ.get(config.BUSINESS_ENV)
    os.environ[config.BUSINESS_ENV] = business
    config.current.cache_clear(), topics.current.cache_clear()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(config.BUSINESS_ENV, None)
        else:
            os.environ[config.BUSINESS_ENV] = previous
        config.current.cache_clear(), topics.current.cache_clear()


def run_business(business: str, **options) -> Dict:
    """`run` on one business's model and held-out sets (make bench: every shipped one)."""
    with serving(business):
        return run(processes.model(business), **options)


def run(model: Path, limit: Optional[int] = None, sets=("test", "hard"), every: int = 1) -> Dict:
    """Figures per held-out set of the business this process serves ($POSTA_BUSINESS); the
    test set's stay at the top level (older reports read them)."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    held_out = {name: config.business_dir() / "eval" / HELD_OUT[name] for name in sets}
    results = {name: evaluate(agent, load(path, limit, every)) for name, path in held_out.items() if path.exists()}
    return {**results.get("test", {}), "sets": results}
