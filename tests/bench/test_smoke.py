"""A tiny run of every benchmark, so `make bench` cannot rot; the figures mean nothing here."""

import asyncio

from bench import clinc, handoff, load, report
from harness.stack import MODEL


def test_load_harness_counts_every_message(stack):
    rest = asyncio.run(load.rest_load(stack, customers=2, messages=6))
    whatsapp = asyncio.run(load.whatsapp_load(stack, customers=2, messages=6))
    for measured in (rest, whatsapp):
        summary = measured.summary()
        assert (summary["messages"], summary["lost"], summary["duplicated"]) == (6, 0, 0)
        assert summary["p50_ms"] > 0
    assert whatsapp.summary()["ack_p99_ms"] is not None
    assert len(asyncio.run(load.escalations(stack, 1, warm_agents=False))) == 1
    by_turn = asyncio.run(load.long_conversation(stack, 3))
    assert len(by_turn["rest"]) == len(by_turn["whatsapp"]) == 3
    flood = asyncio.run(load.login_flood(stack, seconds=1, logins_per_second=4, webhooks_per_second=4))
    assert sum(flood["logins"].values()) == 4 and set(flood["logins"]) <= {401, 429}
    assert flood["idle_ack_p99_ms"] > 0 and flood["flood_ack_p99_ms"] > 0
    assert load.peak_memory_mb(stack)["rasa"] > 100


def test_handoff_and_clinc_harnesses_and_the_report(tmp_path):
    decisions = handoff.run(MODEL, limit=25, sets=("test",))  # the hard set is read once, by make bench
    assert decisions["messages"] == 25 and set(decisions["missed"]) == {"requested", "sensitive", "unsure"}
    oos = clinc.run(intents=3, epochs=1, work=tmp_path / "clinc")
    assert [row["variant"] for row in oos["rows"]] == ["oos-threshold"] * 6 + ["oos-train"] * 6
    assert {row["pipeline"] for row in oos["rows"]} == {"Posta (config.yml)", "DIET only", "embeddings + LR only"}
    assert all(0 <= row["oos_recall"] <= 1 for row in oos["rows"])
    fake_load = {"customers": 2, "database": "SQLite", "memory_mb": {"rasa": 1.0, "actions": 1.0},
                 "rest": {"messages": 4, "answered": 4, "lost": 0, "duplicated": 0, "p50_ms": 10.0, "p95_ms": 12.0,
                          "p99_ms": 13.0, "per_second": 5.0, "ack_p50_ms": None, "ack_p99_ms": None},
                 "whatsapp": {"messages": 4, "answered": 4, "lost": 0, "duplicated": 0, "p50_ms": 11.0,
                              "p95_ms": 14.0, "p99_ms": 15.0, "per_second": 4.0, "ack_p50_ms": 2.0, "ack_p99_ms": 3.0},
                 "rest_latencies": [0.01] * 4, "whatsapp_latencies": [0.011] * 4, "notification_s": [0.2],
                 "by_turn": {"rest": [0.01] * 3, "whatsapp": [0.01] * 3}}
    markdown, plot = tmp_path / "benchmarks.md", tmp_path / "benchmarks.png"
    report.write({"quick": True, "training": {"seconds": 1.0, "model_mb": 1.0}, "handoff": decisions,
                  "load": fake_load, "clinc": oos}, markdown, plot)
    text = markdown.read_text()
    assert "WhatsApp p50 / REST p50: **1.10**" in text and "BERT, oos-threshold" in text
    assert plot.stat().st_size > 10_000
