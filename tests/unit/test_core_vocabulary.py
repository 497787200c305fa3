"""The core holds no business's vocabulary: no intent, topic, team, product or safety-net
word of a shipped business (or of the unit tests' bike shop) appears in the code of
posta/, components/, actions/ or channels/. What a business is, is its files."""

import ast
import re
from pathlib import Path

import pytest
import yaml

from deploy.processes import DEMO, RESTAURANT, ROOT
from posta import facts, lexicon, topics
from posta.language import fold

CORE = ("posta", "components", "actions", "channels")
BUSINESSES = {"optician": ROOT / DEMO, "restaurant": ROOT / RESTAURANT, "bike shop": ROOT / "tests/unit/business"}
# Names the core itself defines and every business uses: its own intents and topics, and
# the `product` fact the catalogue answer reads (docs/your-business.md).
SHARED = {topics.MEDIA, topics.OUT_OF_SCOPE, topics.FALLBACK, topics.GENERAL, "request_human", "product"}
# Words a business uses that the core also says, in another sense.
OTHER_SENSE = {
    "contacts": "a WhatsApp message type",
    "contact": "a WhatsApp contact card",
    "contacto": "a WhatsApp contact card",
    "events": "Rasa's conversation events",
    "delivery": "a WhatsApp message's delivery status",
}
WORD = re.compile(r"[a-z][a-z_]{3,}")


def generic_words():
    """Words of the core's own generic patterns: asking for a person, order numbers, dates."""
    patterns = lexicon.REQUEST_PATTERNS + [facts._ORDER.pattern, facts._DATE.pattern, facts._AMOUNT.pattern]
    return {w for p in patterns for w in WORD.findall(p)}


def own(business: Path):
    """(names, words) of a business: its intents, topics, teams and fact values; and the
    words naming its facts (five letters or more: "lentillas", "paella"). The safety net's
    phrases are sentences made of everyday words the core's own messages use too."""
    loaded = topics.load(business / topics.FILE)
    teams = yaml.safe_load((business / "business.yml").read_text())["teams"]
    names = set(loaded.topics) | {i for t in loaded.topics.values() for i in t.intents} | set(teams)
    names |= {value for kind in loaded.facts.values() for value in kind.values} | set(loaded.facts)
    phrases = [p for kind in loaded.facts.values() for ps in kind.values.values() for p in ps]
    return names - SHARED, {w for p in phrases for w in WORD.findall(fold(p)) if len(w) >= 5} - SHARED


def vocabulary(business: Path):
    """What only this business says: what no other of the three has (hours, complaints and
    orders are every trade's) and the core's generic patterns do not say either."""
    names, words = own(business)
    for other in BUSINESSES.values():
        if other != business:
            other_names, other_words = own(other)
            names, words = names - other_names, words - other_words
    return names - OTHER_SENSE.keys(), words - generic_words() - OTHER_SENSE.keys()


def code():
    """The core's identifiers and its strings (not its docstrings: a docstring may show an
    example)."""
    identifiers, strings = [], []
    for package in CORE:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text())
            docstrings = {
                id(node.body[0].value)
                for node in ast.walk(tree)
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and node.body
                and isinstance(node.body[0], ast.Expr)
                and isinstance(node.body[0].value, ast.Constant)
            }
            file = str(path.relative_to(ROOT))
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                    strings.append((fold(node.value), f"{file}:{getattr(node, 'lineno', '?')}"))
                elif isinstance(node, (ast.Name, ast.Attribute, ast.FunctionDef, ast.ClassDef, ast.arg)):
                    name = getattr(node, "id", None) or getattr(node, "attr", None) or getattr(node, "name", None)
                    identifiers.append(
                        (fold(name or getattr(node, "arg", "")), f"{file}:{getattr(node, 'lineno', '?')}")
                    )
    return identifiers, strings


def leaks(business: Path):
    """Where the core says a name of the business (a compound like eye_exam anywhere, a
    plain word as a whole string or identifier) or a word of its phrases (in a string)."""
    names, words = vocabulary(business)
    identifiers, strings = code()
    found = {}
    for text, at in identifiers + strings:
        for name in names:
            if text == name or ("_" in name and name in text):
                found.setdefault(name, at)
    for text, at in strings:
        for word in set(WORD.findall(text)) & words:
            found.setdefault(word, at)
    return found


@pytest.mark.parametrize("business", BUSINESSES.values(), ids=BUSINESSES.keys())
def test_no_business_vocabulary_in_the_core(business):
    found = leaks(business)
    assert found == {}, "the core says what only a business should: " + ", ".join(
        f"{w} ({at})" for w, at in found.items()
    )


def test_the_check_would_see_a_leak(tmp_path):
    """The test above can fail: the optician's words, had they stayed in the core."""
    names, words = vocabulary(BUSINESSES["optician"])
    assert {"health_question", "eye_exam", "contact_lenses"} <= names and "lentillas" in words
    identifiers, strings = code()
    assert ("action_handoff", "actions/handoff.py") in {(t, at.split(":")[0]) for t, at in strings}
