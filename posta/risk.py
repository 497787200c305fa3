"""Whether a message needs a person: by risk, not by its top intent.

A missed complaint costs far more than an unnecessary handoff, so the decision does not
stop at the intent that ranks first:

- **sensitive** when the probability the classifier puts on the sensitive intents, for
  the whole message or for its riskiest sentence, reaches `sensitive`, even if an FAQ
  ranks first ("the frames you sold me arrived bent" is a complaint, whatever the word
  "frames" suggests); or when its nearest sensitive training example is closer than
  its nearest example of the top intent (by `closer_sensitive`, which may be negative);
- **unsure** when it has no word at all (emoji, punctuation, a number); when it is unlike
  everything the business wrote (its nearest training example is less similar than
  `familiar`); when it is closer to an example of what the bot cannot answer than to its
  nearest example of the top intent (`closer_out_of_scope`: "what time does the bakery
  across the street open" is nearer "when does the supermarket open" than any question
  about the shop's own hours); when it would be small talk but looks like no small-talk
  example (`small_talk`); or when the top intent's confidence is under `fallback`.
  (Keyboard noise has words, of a kind: the training data teaches the classifier that
  "jkdf lkqw" is out of scope.)

Otherwise the top intent stands. The thresholds are chosen on held-out data by
`scripts/choose_thresholds.py`. `handoff_score` sums the evidence up in one number, for
measuring how well it separates what needs a person from what does not (AUROC).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Collection, Dict, List

from posta.language import WORD

FALLBACK = "nlu_fallback"
# Where a message splits into parts that can each carry the risk: sentence ends, and the
# words that start a second thought ("..., pero", "also", "ah y").
_SENTENCE_BREAK = re.compile(
    r"[.!?;\n]+|,\s*(?=(?:y|pero|igual|ah|and|but|also|btw)\b)"
    r"|\s+(?=(?:pero|but|also|btw|ademas|además)\b)",
    re.IGNORECASE,
)
MIN_SENTENCE_WORDS = 3


OFF = 2.0  # a margin no two cosine similarities can reach


@dataclass(frozen=True)
class Thresholds:
    sensitive: float = 0.2  # sensitive probability mass that hands off
    closer_sensitive: float = OFF  # nearest sensitive example this much closer than the top intent's hands off
    familiar: float = 0.0  # similarity to the nearest training example below which the bot is unsure
    closer_out_of_scope: float = OFF  # nearest out-of-scope example this much closer than the top intent's
    small_talk: float = 0.0  # similarity to the nearest small-talk example a small-talk answer needs
    fallback: float = 0.3  # top confidence below which the bot is unsure


@dataclass(frozen=True)
class Evidence:
    """What the classifier saw in one message."""

    ranking: Dict[str, float]  # intent -> probability, for the whole message
    sentence_rankings: List[Dict[str, float]] = field(default_factory=list)  # one per part, when there are parts
    nearest: float = 1.0  # cosine similarity to the most similar training example
    nearest_small_talk: float = 1.0  # ... to the most similar small-talk example
    nearest_top: float = 1.0  # ... to the most similar example of the top intent
    nearest_out_of_scope: float = 0.0  # ... of what the bot cannot answer
    nearest_sensitive: float = 0.0  # ... of a sensitive intent
    nearest_sensitive_intent: str = ""  # that example's intent
    words: int = 1  # words (runs of letters) in the message

    @property
    def top(self) -> str:
        return max(self.ranking, key=self.ranking.get) if self.ranking else FALLBACK

    def mass(self, intents: Collection[str]) -> float:
        """The highest probability the whole message or one of its parts puts on `intents`."""
        return max(
            sum(p for name, p in ranking.items() if name in intents)
            for ranking in [self.ranking, *self.sentence_rankings]
        )

    def riskiest(self, intents: Collection[str]) -> str:
        """The most probable of `intents` in the ranking where they weigh most."""
        ranking = max(
            [self.ranking, *self.sentence_rankings], key=lambda r: sum(p for name, p in r.items() if name in intents)
        )
        return max(intents, key=lambda name: ranking.get(name, 0.0))


@dataclass(frozen=True)
class Verdict:
    intent: str
    reason: str  # top, sensitive, unfamiliar, no_words, not_small_talk, low_confidence
    confidence: float


def judge(
    evidence: Evidence,
    thresholds: Thresholds,
    sensitive: Collection[str],
    small_talk: Collection[str] = (),
    handoff: Collection[str] = (),
) -> Verdict:
    """The intent to act on. A top intent in `handoff` (already a person: a request, an
    order, out of scope) stands, unless the sensitive rules find more."""
    mass = evidence.mass(sensitive)
    if sensitive and mass >= thresholds.sensitive:
        return Verdict(evidence.riskiest(sensitive), "sensitive", mass)
    top = evidence.top
    confidence = evidence.ranking.get(top, 0.0)
    if top in handoff:
        return Verdict(top, "top", confidence)
    if (
        evidence.nearest_sensitive_intent
        and top not in sensitive
        and evidence.nearest_sensitive - evidence.nearest_top >= thresholds.closer_sensitive
    ):
        return Verdict(evidence.nearest_sensitive_intent, "near_sensitive", mass)
    if evidence.words == 0:
        return Verdict(FALLBACK, "no_words", confidence)
    if evidence.nearest < thresholds.familiar:
        return Verdict(FALLBACK, "unfamiliar", confidence)
    if evidence.nearest_out_of_scope - evidence.nearest_top >= thresholds.closer_out_of_scope:
        return Verdict(FALLBACK, "near_out_of_scope", confidence)
    if top in small_talk and evidence.nearest_small_talk < thresholds.small_talk:
        return Verdict(FALLBACK, "not_small_talk", confidence)
    if confidence < thresholds.fallback:
        return Verdict(FALLBACK, "low_confidence", confidence)
    return Verdict(top, "top", confidence)


def handoff_score(
    evidence: Evidence, thresholds: Thresholds, sensitive: Collection[str], handoff: Collection[str]
) -> float:
    """One number, higher when a person is more likely needed (for AUROC): the probability
    the classifier puts on `handoff` intents, or the sensitive mass and the unfamiliarity
    as shares of their thresholds, whichever is highest (1 or more whenever those two
    rules hand off)."""
    signals = [
        sum(p for name, p in evidence.ranking.items() if name in handoff),
        evidence.mass(sensitive) / max(thresholds.sensitive, 1e-6),
    ]
    if thresholds.familiar > 0:
        signals.append(thresholds.familiar / max(evidence.nearest, 1e-6))
    if evidence.words == 0:
        signals.append(1.0)
    return max(signals)


def sentences(text: str) -> List[str]:
    """The parts of a message worth scoring on their own; none for a one-part message."""
    parts = [p.strip(" ,") for p in _SENTENCE_BREAK.split(text or "") if p and p.strip(" ,")]
    parts = [p for p in parts if len(p.split()) >= MIN_SENTENCE_WORDS]
    return parts if len(parts) > 1 else []


def words(text: str) -> int:
    """How many words (runs of letters) `text` has: none for emoji, punctuation or numbers."""
    return len(WORD.findall(text or ""))


def parse_thresholds(config: Dict[str, object]) -> Thresholds:
    defaults = Thresholds()
    return Thresholds(**{name: float(config.get(name, getattr(defaults, name))) for name in defaults.__dict__})
