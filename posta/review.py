"""`make review` and the panel's review page: what the judged and flagged cases of a period
(and the conversations the bot handled alone that were rated low) teach the conversation
designer, as files they edit and keep.

    python -m posta.review [--days 7] [--out DIR]

- `data/review/review-<date>.yml`: NLU examples in Rasa YAML, one block per intent, every
  line commented: nothing reaches the training data until the designer uncomments it;
- `tests/stories/test_review_<date>.yml`: one end-to-end test story per reviewed conversation —
  the bot's part of it, ending with what the bot should have done with the message in
  question — which `rasa test` (so `make test`) runs from then on;
- `results/review/thresholds-<date>.md`: on the judged cases, how many needed handoffs each
  candidate threshold of the fallback and sensitive decisions would miss and how many
  unnecessary ones it would make, the current setting marked.

The lesson of a case is what an admin chose for it on the review page; without a choice,
what its judgment says: "the bot could have answered, with X" is an example and a story
for X's intent, "a person was needed" a story of the handoff as it happened. A flagged case
nobody judged (a possible miss), like a low rating of the bot, waits for a choice. Phone numbers, e-mail addresses and the
names Posta knows (the customer's, the agents') are replaced by placeholders in everything
written.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

from posta import config as business_config
from posta import judgments, rasa_data, rasa_events, ratings
from posta import topics as topics_module
from posta.states import CaseEventKind, Reason
from posta.store import Case, CaseStore

PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
CANDIDATES = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
# Rasa's own steps, not the business's behaviour: a story does not list them.
NOT_STEPS = ("action_listen", "action_session_start", "action_unlikely_intent", "action_extract_slots")
CHOICES = ("both", "example", "story", "skip")
SENT_BY_POSTA = ("handback", topics_module.MEDIA)
LOW_RATING = "low_rating"  # why a bot-only conversation is reviewed


@dataclass(frozen=True)
class Turn:
    """One message of the customer's to the bot and what the bot did with it."""

    text: str  # masked
    intent: Optional[str]
    confidence: Optional[float] = None  # the top intent's
    sensitive_mass: Optional[float] = None  # the sensitive intents' share (components.handoff_risk)
    actions: Tuple[str, ...] = ()
    pressed: bool = False  # a button (its payload is the intent), not words


@dataclass(frozen=True)
class Lesson:
    intent: str
    example: bool
    story: bool


@dataclass(frozen=True)
class Reviewed:
    """A judged or flagged case, or a conversation the bot handled alone that was rated low."""

    case: Optional[Case]
    turns: List[Turn]  # the bot's part of the conversation, up to the message that opened the case
    asked: int = -1  # which turn is the message in question
    form: bool = False  # a form ran in it: no story (its slots are not replayed)
    chosen: Optional[Mapping[str, Any]] = None  # the review page's choice, if any
    chosen_by: Optional[str] = None
    because: str = field(default="")  # why it is here: judged, or which possible miss
    opening: Optional[Turn] = None  # the message that opened the case (default: the last turn)
    rating: Optional[ratings.BotRating] = None  # when it is a bot-only conversation rated low

    @property
    def subject(self) -> str:
        """What the review is about, as the page and the story name it: case-12, rating-3."""
        return f"case-{self.case.id}" if self.case else f"rating-{self.rating.id}"

    @property
    def judgment(self) -> Optional[str]:
        return self.case.judgment if self.case else None

    @property
    def reason(self) -> str:
        return self.case.reason if self.case else LOW_RATING

    @property
    def question(self) -> Optional[Turn]:
        return self.turns[self.asked] if self.turns else None

    @property
    def confidence(self) -> Optional[float]:
        """Of the message that opened the case: what the fallback decision saw."""
        return self._opened.confidence if self._opened else None

    @property
    def sensitive_mass(self) -> Optional[float]:
        return self._opened.sensitive_mass if self._opened else None

    @property
    def _opened(self) -> Optional[Turn]:
        return self.opening or (self.turns[-1] if self.turns else None)


def mask(text: str, names: Sequence[str]) -> str:
    text = EMAIL.sub("<email>", PHONE.sub("<phone>", text))
    words = {word for name in names if name for word in [name, *name.split()] if len(word) > 2}
    for name in sorted(words, key=len, reverse=True):  # "Lucía Paz" whole, then "Lucía" alone
        text = re.sub(rf"\b{re.escape(name)}\b", "<name>", text, flags=re.IGNORECASE)
    return text


def collect(store: CaseStore, names: Sequence[str], start: datetime, end: datetime) -> List[Reviewed]:
    """The period's cases someone judged or the data flags, with the bot's part of each."""
    found = []
    for case in store.created_between(start, end):
        if not (case.judgment or judgments.possible_miss(case)):
            continue
        who = list(names) + [case.customer_name or ""]
        events = rasa_events.load(store.engine, case.conversation_id)
        turns, form = bot_part(events, case.created_at.timestamp(), who)
        opening = turns[-1] if turns else None
        if case.judgment == judgments.BOT and case.reason == Reason.REQUESTED and len(turns) == 1:
            # Asked for a person at once, then asked them what the bot knew: that is in question.
            turns = _to_the_person(events, case.created_at.timestamp(), who) or turns
        chosen = next((e for e in reversed(store.history(case.id)) if e.kind == CaseEventKind.REVIEWED), None)
        found.append(
            Reviewed(
                case=case,
                turns=turns,
                asked=_asked(case, turns),
                form=form,
                chosen=json.loads(chosen.detail) if chosen else None,
                chosen_by=chosen.actor if chosen else None,
                because=f"judged_{case.judgment}" if case.judgment else f"miss_{case.reason}",
                opening=opening,
            )
        )
    for rated in ratings.BotRatings(store.engine).low_between(start, end):
        events = rasa_events.load(store.engine, rated.conversation_id)
        turns, form = bot_part(events, rated.asked_at.timestamp(), names)
        found.append(
            Reviewed(
                case=None,
                turns=turns,
                form=form,
                chosen=rated.lesson,
                chosen_by=rated.lesson_by,
                because=f"miss_{LOW_RATING}",
                rating=rated,
            )
        )
    return found


def _asked(case: Case, turns: Sequence[Turn]) -> int:
    """Which turn is in question: the message that opened the case, or, when the customer
    asked for a person right after a bot answer (and the person was not judged needed for
    that request), the message the bot answered."""
    after_answer = case.reason == Reason.REQUESTED and len(turns) > 1 and case.judgment != judgments.NEEDED
    return -2 if after_answer else -1


def bot_part(events: Sequence[Dict], opened: float, names: Sequence[str]) -> Tuple[List[Turn], bool]:
    """The customer's messages since the session started (or the last handback) up to the
    one that opened the case at `opened`, each with the actions the bot took after it."""
    ends = [
        i for i, e in enumerate(events) if rasa_events.is_customer_message(e) and (e.get("timestamp") or 0) <= opened
    ]
    if not ends:
        return [], False
    starts = [
        i + 1 for i, e in enumerate(events[: ends[-1]]) if rasa_events.is_new_session(e) or rasa_events.is_handback(e)
    ]
    turns: List[Dict[str, Any]] = []
    form = False
    for index, event in enumerate(events[(starts or [0])[-1] :], start=(starts or [0])[-1]):
        if event.get("event") == "user":
            if index > ends[-1]:
                break
            if rasa_events.is_customer_message(event):
                turns.append(_turn(event, names))
        elif event.get("event") == "active_loop" and event.get("name"):
            form = True
        elif event.get("event") == "action" and turns and event.get("name") not in NOT_STEPS:
            turns[-1]["actions"] += (event["name"],)
            if event["name"] == rasa_events.HANDOFF_ACTION and index > ends[-1]:
                break  # the person's part begins
    return [Turn(**t) for t in turns], form


def _to_the_person(events: Sequence[Dict], opened: float, names: Sequence[str]) -> List[Turn]:
    """The customer's first message to the person who took the case, as a turn of its own."""
    for event in events:
        if rasa_events.is_handback(event) and (event.get("timestamp") or 0) > opened:
            break
        if rasa_events.is_customer_message(event) and (event.get("timestamp") or 0) > opened:
            return [Turn(**_turn(event, names))]
    return []


def intents(business: Path) -> List[str]:
    """The intents a message can be taught: the domain's, less those only Posta sends."""
    return [i for i in rasa_data.intents(business) if i not in SENT_BY_POSTA]


def _turn(event: Dict, names: Sequence[str]) -> Dict[str, Any]:
    parse = event.get("parse_data") or {}
    return {
        "text": _plain(mask(rasa_events.customer_text(event), names)),
        "intent": rasa_events.intent(event),
        "confidence": (parse.get("intent") or {}).get("confidence"),
        "sensitive_mass": (parse.get("handoff_risk") or {}).get("sensitive_mass"),
        "pressed": str(event.get("text") or "").startswith("/"),
        "actions": (),
    }


def _plain(text: str) -> str:
    """Words Rasa's YAML reads as words: no entity brackets, one line."""
    return " ".join(text.replace("[", "(").replace("]", ")").split()).lstrip("/")


def lesson(item: Reviewed) -> Optional[Lesson]:
    """What the case teaches: the admin's choice, else what its judgment says (None: nothing yet)."""
    if item.chosen is not None:
        choice = item.chosen.get("choice")
        if choice not in CHOICES or choice == "skip" or not item.chosen.get("intent"):
            return None
        return Lesson(item.chosen["intent"], choice in ("both", "example"), choice in ("both", "story"))
    business, case = topics_module.current(), item.case
    if case is None:
        return None  # rated low after the bot alone: only a person can say what went wrong
    if case.judgment == judgments.BOT and case.judged_topic in business.topics:
        intents = business.topics[case.judged_topic].intents
        asked_for_a_person = item.question and item.question.intent in business.request_intents
        return Lesson(intents[0], True, True) if intents and not asked_for_a_person else None
    if case.judgment == judgments.NEEDED and item.question:
        return Lesson(item.question.intent or "", False, True)
    return None


def story(item: Reviewed, taught: Lesson, answers: Mapping[str, Tuple[str, ...]]) -> Optional[Dict[str, Any]]:
    """The bot's part of the conversation as a test story ending with what the bot should
    have done with the message in question; None when it cannot be replayed."""
    if not taught.story or item.form or not item.turns:
        return None
    question = item.question
    kept = question.actions if taught.intent == question.intent else ()
    actions = kept or answers.get(taught.intent)
    if not actions:
        return None
    turns = item.turns[: len(item.turns) + item.asked] + [
        Turn(question.text, taught.intent, actions=tuple(actions), pressed=question.pressed)
    ]
    steps: List[Dict[str, str]] = []
    for turn in turns:
        steps.append({"intent": turn.intent} if turn.pressed else {"user": turn.text, "intent": turn.intent})
        steps += [{"action": action} for action in turn.actions]
    return {"story": f"{item.subject}: {item.because} ({taught.intent})", "steps": steps}


def nlu_review(reviewed: Sequence[Reviewed], day: str) -> Optional[str]:
    """Rasa YAML whose examples are all commented out: the designer uncomments what they
    agree with, then trains. None when there is no example."""
    by_intent: Dict[str, List[str]] = {}
    for item in reviewed:
        taught = lesson(item)
        if taught and taught.example and item.question and not item.question.pressed:
            by_intent.setdefault(taught.intent, []).append(item.question.text)
    if not by_intent:
        return None
    lines = [
        f"# make review, {day}: messages the bot should have answered otherwise, by the intent it",
        "# should have given them. Nothing here is trained until you uncomment it: read each, keep",
        "# the ones that are right (and change `nlu: []` to `nlu:`), then `make validate` and `make train`.",
        'version: "3.1"',
        "nlu: []",
    ]
    for intent, examples in sorted(by_intent.items()):
        lines += [f"# - intent: {intent}", "#   examples: |"]
        lines += [f"#     - {example}" for example in dict.fromkeys(examples)]
    return "\n".join(lines) + "\n"


def test_stories(reviewed: Sequence[Reviewed], day: str, answers: Mapping[str, Tuple[str, ...]]) -> Optional[str]:
    """One test story per reviewed conversation that has a lesson and can be replayed;
    None when there is none."""
    stories = [s for s in (story(item, t, answers) for item in reviewed for t in [lesson(item)] if t) if s]
    if not stories:
        return None
    header = (
        f"# make review, {day}: one story per reviewed conversation — the bot's part of it, ending with\n"
        "# what it should have done. `rasa test` runs them: a story fails until the model has learned\n"
        "# its lesson (take the examples in data/review/, then `make train`).\n"
    )
    body = yaml.safe_dump({"version": "3.1", "stories": stories}, allow_unicode=True, sort_keys=False, width=1000)
    return header + body


def threshold_rows(reviewed: Sequence[Reviewed], decision: str, candidates: Sequence[float] = CANDIDATES) -> List[Dict]:
    """For each candidate threshold of `decision` (fallback: hand off when the top
    confidence is under it; sensitive: when the sensitive share reaches it), on the judged
    cases that decision concerns: needed handoffs it would miss, unnecessary ones it would make."""
    rows = []
    for threshold in candidates:
        missed = unnecessary = 0
        for item in reviewed:
            score = item.confidence if decision == "fallback" else item.sensitive_mass
            if score is None or not item.judgment:
                continue
            hands_off = score < threshold if decision == "fallback" else score >= threshold
            missed += item.judgment == judgments.NEEDED and not hands_off
            unnecessary += item.judgment == judgments.BOT and hands_off
        rows.append({"threshold": threshold, "missed": missed, "unnecessary": unnecessary})
    return rows


def threshold_report(reviewed: Sequence[Reviewed], current: Dict[str, float], day: str) -> str:
    judged = sum(1 for r in reviewed if r.judgment)
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


FILES = ("nlu", "stories", "thresholds")


def files(
    reviewed: Sequence[Reviewed], business: Path, day: str, out: Optional[Path] = None
) -> Dict[str, Tuple[Path, Optional[str]]]:
    """The three files of `make review` for `day` (path under `out`, by default
    config.review_dir(), and text: None for a file with nothing in it), by kind."""
    out = out or business_config.review_dir()
    return {
        "nlu": (out / "data" / "review" / f"review-{day}.yml", nlu_review(reviewed, day)),
        "stories": (
            out / "tests" / "stories" / f"test_review_{day}.yml",  # rasa test reads test_* files only
            test_stories(reviewed, day, rasa_data.answers(business)),
        ),
        "thresholds": (
            out / "results" / "review" / f"thresholds-{day}.md",
            threshold_report(reviewed, current_thresholds(business), day),
        ),
    }


def write(reviewed: Sequence[Reviewed], business: Path, day: str, out: Optional[Path] = None) -> List[Path]:
    """Writes the day's files; one left with nothing in it (all skipped) is removed."""
    written = []
    for path, text in files(reviewed, business, day, out).values():
        if text is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def period(days: int, now: Optional[datetime] = None) -> Tuple[datetime, datetime]:
    end = now or datetime.now(timezone.utc)
    return end - timedelta(days=days), end


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--out", type=Path, help="where to write (default: $POSTA_REVIEW_DIR, else the business)")
    args = parser.parse_args(argv)
    business, loaded = business_config.business_dir(), business_config.current()
    start, end = period(args.days)
    reviewed = collect(CaseStore(), [a.name for a in loaded.agents], start, end)
    day = end.astimezone(loaded.timezone).date().isoformat()
    for path in write(reviewed, business, day, args.out):
        print(f"wrote {path}")
    waiting = sum(1 for r in reviewed if lesson(r) is None and r.chosen is None)
    print(
        f"{len(reviewed)} cases and low-rated conversations reviewed ({sum(1 for r in reviewed if r.judgment)} judged); "
        f"{waiting} wait for a choice on the panel's review page"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
