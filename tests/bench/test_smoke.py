"""A tiny run of every benchmark, so `make bench` cannot rot. The figures themselves mean
nothing here, but they must be consistent: counts that add up, rates between 0 and 1,
missed and unnecessary handoffs that are real messages of the held-out set."""

import asyncio

import pytest

from bench import clinc, handoff, load, report
from deploy.processes import DEMO, RESTAURANT, ROOT
from posta import topics


def test_load_harness_counts_every_message(stack):
    rest = asyncio.run(load.rest_load(stack, customers=2, messages=6))
    whatsapp = asyncio.run(load.whatsapp_load(stack, customers=2, messages=6))
    for measured in (rest, whatsapp):
        summary = measured.summary()
        assert (summary["messages"], summary["lost"], summary["duplicated"]) == (6, 0, 0)
        assert summary["p50_ms"] > 0
    assert whatsapp.summary()["ack_p99_ms"] is not None
    [notified_after] = asyncio.run(load.escalations(stack, 1, warm_agents=False))
    assert 0 < notified_after < 30
    relayed = load.relays(stack, 1, photo_kb=10)
    assert [len(relayed["text"]), len(relayed["photo"])] == [1, 1] and all(
        0 < s < 30 for s in sum(relayed.values(), [])
    )
    by_turn = asyncio.run(load.long_conversation(stack, 3))
    assert len(by_turn["rest"]) == len(by_turn["whatsapp"]) == 3
    flood = asyncio.run(load.login_flood(stack, seconds=1, logins_per_second=4, webhooks_per_second=4))
    assert sum(flood["logins"].values()) == 4 and set(flood["logins"]) <= {401, 429}
    assert flood["idle_ack_p99_ms"] > 0 and flood["flood_ack_p99_ms"] > 0
    assert load.peak_memory_mb(stack)["rasa"] > 100


def rate(value):
    return value is not None and 0 <= value <= 1


def assert_consistent_handoff_figures(decisions, examples):
    """What `bench.handoff.evaluate` said about `examples` (text, intent, language) adds up."""
    wanted = {text: topics.current().need(intent) for text, intent, _ in examples}
    needs = decisions["needs_person"]
    assert decisions["messages"] == len(examples)
    assert needs == {reason: list(wanted.values()).count(reason) for reason in set(wanted.values()) - {"answer"}}
    assert sum(needs.values()) + decisions["answerable"] == decisions["messages"]
    # Missed handoffs: real messages of the set that needed a person, counted by the reason they needed.
    for text, reason in decisions["missed_examples"]:
        assert wanted[text] == reason != "answer", text
    assert decisions["missed"] == {
        reason: [r for _, r in decisions["missed_examples"]].count(reason)
        for reason in ("requested", "sensitive", "unsure")
    }
    assert all(decisions["missed"][reason] <= needs.get(reason, 0) for reason in decisions["missed"])
    assert decisions["handed_off_with_another_reason"] <= sum(needs.values()) - sum(decisions["missed"].values())
    # Unnecessary handoffs: answerable messages of the set the bot handed off anyway.
    for text, reason in decisions["unnecessary_examples"]:
        assert wanted[text] == "answer" != reason, text
    assert decisions["unnecessary"] == len(decisions["unnecessary_examples"]) <= decisions["answerable"]
    assert decisions["unnecessary_rate"] == round(decisions["unnecessary"] / max(decisions["answerable"], 1), 4)
    assert decisions["with_language"] <= decisions["messages"]
    assert decisions["wrong_language"] is None or decisions["wrong_language"] <= decisions["with_language"]
    assert decisions["auroc"] is None or rate(decisions["auroc"])
    assert all(rate(share) for share in decisions["right_decision_by_language"].values())


@pytest.fixture(scope="module")
def decisions():
    """Every 20th message of each business's test set: all its intents, so some need a
    person (the hard sets are read once, by make bench)."""
    return {
        business: handoff.run_business(business, limit=15, sets=("test",), every=20) for business in (DEMO, RESTAURANT)
    }


@pytest.mark.parametrize("business", [DEMO, RESTAURANT])
def test_the_handoff_harness_on_each_business(business, decisions):
    with handoff.serving(business):
        examples = handoff.load(ROOT / business / "eval" / handoff.HELD_OUT["test"], 15, every=20)
        assert len(examples) == 15 and 0 < sum(topics.current().need(i) != "answer" for _, i, _ in examples) < 15
        assert_consistent_handoff_figures(decisions[business], examples)
    assert decisions[business]["sets"]["test"] == {k: v for k, v in decisions[business].items() if k != "sets"}


def test_clinc_harness_and_the_report(tmp_path, decisions):

    oos = clinc.run(intents=3, epochs=1, work=tmp_path / "clinc")
    data = clinc.load(3)
    assert (oos["train_examples"], oos["test_in_scope"], oos["test_oos"]) == (
        len(data["train"]),
        len(data["test"]),
        len(data["oos_test"]),
    )
    assert [row["variant"] for row in oos["rows"]] == ["oos-threshold"] * 6 + ["oos-train"] * 6
    assert {row["pipeline"] for row in oos["rows"]} == {"Posta (config.yml)", "DIET only", "embeddings + LR only"}
    for row in oos["rows"]:
        figures = [row[k] for k in ("in_scope_accuracy", "oos_recall", "oos_precision", "oos_f1", "auroc")]
        assert all(rate(f) for f in figures), row
        low, high = sorted((row["oos_precision"], row["oos_recall"]))
        assert low - 1e-9 <= row["oos_f1"] <= high + 1e-9, row  # a harmonic mean lies between its parts
        assert row["threshold"] in clinc.THRESHOLDS, row
    fake_load = {
        "customers": 2,
        "database": "SQLite",
        "memory_mb": {"rasa": 1.0, "actions": 1.0},
        "rest": {
            "messages": 4,
            "answered": 4,
            "lost": 0,
            "duplicated": 0,
            "p50_ms": 10.0,
            "p95_ms": 12.0,
            "p99_ms": 13.0,
            "per_second": 5.0,
            "ack_p50_ms": None,
            "ack_p99_ms": None,
        },
        "whatsapp": {
            "messages": 4,
            "answered": 4,
            "lost": 0,
            "duplicated": 0,
            "p50_ms": 11.0,
            "p95_ms": 14.0,
            "p99_ms": 15.0,
            "per_second": 4.0,
            "ack_p50_ms": 2.0,
            "ack_p99_ms": 3.0,
        },
        "rest_latencies": [0.01] * 4,
        "whatsapp_latencies": [0.011] * 4,
        "notification_s": [0.2],
        "relay_s": {"text": [0.2, 0.2], "photo": [0.3, 0.3]},
        "by_turn": {"rest": [0.01] * 3, "whatsapp": [0.01] * 3},
    }
    markdown, plot = tmp_path / "benchmarks.md", tmp_path / "benchmarks.png"
    report.write(
        {
            "quick": True,
            "training": {"seconds": 1.0, "model_mb": 1.0},
            "handoff": decisions[DEMO],
            "handoff_restaurant": decisions[RESTAURANT],
            "load": fake_load,
            "clinc": oos,
        },
        markdown,
        plot,
    )
    text = markdown.read_text()
    assert "WhatsApp p50 / REST p50: **1.10**" in text and "BERT, oos-threshold" in text
    assert "Casa Lola" in text and "businesses/restaurant/eval/nlu_test.yml" in text
    assert "a p50 ratio of **1.50**" in text  # the photo relay beside the text one
    assert plot.stat().st_size > 10_000
