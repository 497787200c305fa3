"""Handoff decisions on held-out customer messages (eval/nlu_test.yml, never trained on).

Each message is labelled with an intent; its intent says what the bot must do: answer,
or hand off as `requested`, `sensitive` or `unsure`. The trained model parses it (the
whole pipeline: classifiers, safety net, fallback) and `posta.handoff.decide` gives the
reason, exactly as action_handoff would. Missed handoffs are counted by reason;
unnecessary handoffs are answerable questions the bot handed off.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional

from posta import handoff, language
from posta.topics import HANDOFF_INTENTS, REQUEST_INTENTS, SENSITIVE_INTENTS

ROOT = Path(__file__).resolve().parent.parent
HELD_OUT = ROOT / "eval" / "nlu_test.yml"


def expected(intent: str) -> str:
    if intent in REQUEST_INTENTS:
        return "requested"
    if intent in SENSITIVE_INTENTS:
        return "sensitive"
    if intent in HANDOFF_INTENTS:
        return "unsure"
    return "answer"


def decided(parsed: Dict) -> str:
    """What the bot does with a parsed message: 'answer' or the handoff reason."""
    intent = parsed["intent"]["name"]
    if intent not in HANDOFF_INTENTS:
        return "answer"
    return handoff.decide(intent, parsed.get("text") or "").reason


def run(model: Path, limit: Optional[int] = None) -> Dict:
    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.loading import load_data

    examples = [(m.get("text"), m.get("intent")) for m in load_data(str(HELD_OUT)).intent_examples][:limit]
    agent = Agent.load(str(model))

    async def parse_all():
        return [await agent.parse_message(text) for text, _ in examples]

    parsed = asyncio.run(parse_all())
    outcomes = [(text, expected(gold), decided(p)) for (text, gold), p in zip(examples, parsed)]
    needs = Counter(want for _, want, _ in outcomes if want != "answer")
    missed = Counter(want for _, want, got in outcomes if want != "answer" and got == "answer")
    other_reason = sum(1 for _, want, got in outcomes if want not in ("answer", got) and got != "answer")
    answerable = [got for _, want, got in outcomes if want == "answer"]
    by_language: Dict[str, List[bool]] = {}
    for text, want, got in outcomes:
        right = (want == "answer") == (got == "answer")
        by_language.setdefault(language.detect(text) or "unclear", []).append(right)
    return {
        "messages": len(outcomes),
        "needs_person": dict(needs),
        "missed": {reason: missed.get(reason, 0) for reason in ("requested", "sensitive", "unsure")},
        "handed_off_with_another_reason": other_reason,
        "answerable": len(answerable),
        "unnecessary": sum(1 for got in answerable if got != "answer"),
        "unnecessary_rate": round(sum(1 for got in answerable if got != "answer") / max(len(answerable), 1), 4),
        "right_decision_by_language": {lang: round(sum(v) / len(v), 4) for lang, v in sorted(by_language.items())},
        "missed_examples": [(text, want) for text, want, got in outcomes if want != "answer" and got == "answer"],
    }
