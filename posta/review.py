"""`make review`: what the judged and flagged cases of a period teach the conversation
designer, as files they edit.

    python -m posta.review [--days 7]

- `data/review/review-<date>.yml`: NLU examples in Rasa YAML, one block per intent the bot
  should have answered with (a "the bot could have answered, with ..." judgment), every line
  commented: nothing reaches the training data until the designer uncomments it;
- `results/review/thresholds-<date>.md`: on the judged cases, how many needed handoffs each
  candidate threshold of the fallback and sensitive decisions would miss and how many
  unnecessary ones it would make, the current setting marked.

Phone numbers, e-mail addresses and the names Posta knows (the customer's, the agents')
are replaced by placeholders in everything written.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import yaml

from posta import config as business_config
from posta import judgments, rasa_events
from posta import topics as topics_module
from posta.store import Case, CaseStore

PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
CANDIDATES = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)


@dataclass(frozen=True)
class Reviewed:
    case: Case
    messages: List[str]  # the customer's words, masked
    confidence: Optional[float]  # of the message that opened the case: its top intent's
    sensitive_mass: Optional[float]  # and the sensitive intents' share (components.handoff_risk)


def mask(text: str, names: Sequence[str]) -> str:
    text = EMAIL.sub("<email>", PHONE.sub("<phone>", text))
    for name in sorted({n for n in names if n and len(n) > 1}, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(name)}\b", "<name>", text, flags=re.IGNORECASE)
    return text


def collect(store: CaseStore, names: Sequence[str], start: datetime, end: datetime) -> List[Reviewed]:
    """The period's cases someone judged or the data flags, with what opened each."""
    found = []
    for case in store.created_between(start, end):
        if not (case.judgment or judgments.possible_miss(case)):
            continue
        who = list(names) + [case.customer_name or ""]
        opening = _opening_parse(store, case)
        risk = opening.get("handoff_risk") or {}
        found.append(
            Reviewed(
                case=case,
                messages=[mask(m.text, who) for m in case.summary.messages if m.text],
                confidence=(opening.get("intent") or {}).get("confidence"),
                sensitive_mass=risk.get("sensitive_mass"),
            )
        )
    return found


def _opening_parse(store: CaseStore, case: Case) -> Dict:
    """The parse of the customer's last message before the case opened."""
    opened = case.created_at.timestamp()
    before = [
        e
        for e in rasa_events.load(store.engine, case.conversation_id)
        if rasa_events.is_customer_message(e) and (e.get("timestamp") or 0) <= opened
    ]
    return (before[-1].get("parse_data") or {}) if before else {}


def nlu_review(reviewed: Sequence[Reviewed], day: str) -> str:
    """Rasa YAML whose examples are all commented out: the designer uncomments what they
    agree with, then trains."""
    business = topics_module.current()
    by_intent: Dict[str, List[str]] = {}
    for item in reviewed:
        topic = item.case.judged_topic
        if item.case.judgment == judgments.BOT and topic in business.topics and business.topics[topic].intents:
            by_intent.setdefault(business.topics[topic].intents[0], []).extend(item.messages)
    lines = [
        f"# make review, {day}: messages a person judged the bot could have answered, by the intent",
        "# it should have answered with. Nothing here is trained until you uncomment it: read each,",
        "# keep the ones that are right, then `make validate` and `make train`.",
        'version: "3.1"',
        "nlu: []",
    ]
    for intent, examples in sorted(by_intent.items()):
        lines += [f"# - intent: {intent}", "#   examples: |"]
        lines += [f"#     - {example}" for example in dict.fromkeys(" ".join(e.split()) for e in examples)]
    return "\n".join(lines) + "\n"


def threshold_rows(reviewed: Sequence[Reviewed], decision: str, candidates: Sequence[float] = CANDIDATES) -> List[Dict]:
    """For each candidate threshold of `decision` (fallback: hand off when the top
    confidence is under it; sensitive: when the sensitive share reaches it), on the judged
    cases that decision concerns: needed handoffs it would miss, unnecessary ones it would make."""
    rows = []
    for threshold in candidates:
        missed = unnecessary = 0
        for item in reviewed:
            score = item.confidence if decision == "fallback" else item.sensitive_mass
            if score is None or not item.case.judgment:
                continue
            hands_off = score < threshold if decision == "fallback" else score >= threshold
            missed += item.case.judgment == judgments.NEEDED and not hands_off
            unnecessary += item.case.judgment == judgments.BOT and hands_off
        rows.append({"threshold": threshold, "missed": missed, "unnecessary": unnecessary})
    return rows


def threshold_report(reviewed: Sequence[Reviewed], current: Dict[str, float], day: str) -> str:
    judged = sum(1 for r in reviewed if r.case.judgment)
    lines = [f"# Handoff thresholds on judged cases ({day})", "", f"{judged} judged cases.", ""]
    for decision in ("fallback", "sensitive"):
        lines += [f"## {decision}", "", "| threshold | needed, missed | unnecessary |", "|---|---|---|"]
        candidates = sorted(set(CANDIDATES) | ({current[decision]} if decision in current else set()))
        for row in threshold_rows(reviewed, decision, candidates):
            mark = " (current)" if abs(row["threshold"] - current.get(decision, -1)) < 1e-9 else ""
            lines.append(f"| {row['threshold']}{mark} | {row['missed']} | {row['unnecessary']} |")
        lines.append("")
    return "\n".join(lines)


def current_thresholds(business: Path) -> Dict[str, float]:
    config = yaml.safe_load((business / "config.yml").read_text(encoding="utf-8"))
    component = next((c for c in config.get("pipeline") or [] if c["name"].endswith("HandoffRisk")), {})
    return {k: float(component[k]) for k in ("fallback", "sensitive") if k in component}


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args(argv)
    business = business_config.business_dir()
    loaded = business_config.current()
    end = datetime.now(timezone.utc)
    reviewed = collect(CaseStore(), [a.name for a in loaded.agents], end - timedelta(days=args.days), end)
    day = end.astimezone(loaded.timezone).date().isoformat()
    nlu = business / "data" / "review" / f"review-{day}.yml"
    report = business_config.ROOT / "results" / "review" / f"thresholds-{day}.md"
    for path, text in (
        (nlu, nlu_review(reviewed, day)),
        (report, threshold_report(reviewed, current_thresholds(business), day)),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    print(f"{len(reviewed)} cases reviewed ({sum(1 for r in reviewed if r.case.judgment)} judged)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
