"""`make bench`: every benchmark, then docs/benchmarks.md and docs/benchmarks.png.

python -m bench            the full run (CLINC150 takes most of it; under an hour)
python -m bench --quick    20 CLINC intents, a lighter load
python -m bench --reuse-clinc results/bench/clinc.json   skip retraining on CLINC150
python -m bench --only-handoff   rerun section 2 (both businesses' held-out decisions) in place
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from bench import clinc, handoff, load, report
from deploy.processes import DEMO, RESTAURANT
from harness.stack import OPEN_HOURS, Stack

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results" / "bench"


def training() -> dict:
    """`rasa train` of the project from scratch: what a designer's CI pays."""
    with tempfile.TemporaryDirectory() as out:
        started = time.time()
        subprocess.run(
            [str(ROOT / ".venv/bin/rasa"), "train", "--force", "--out", out, "--fixed-model-name", "m"],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        seconds = time.time() - started
        size = (Path(out) / "m.tar.gz").stat().st_size
    return {"seconds": round(seconds, 1), "model_mb": round(size / 2**20, 1)}


def serve_and_load(quick: bool, database_url: str) -> dict:
    customers, messages, turns, escalations = (20, 400, 100, 20) if quick else (50, 2000, 300, 50)
    with tempfile.TemporaryDirectory() as work:
        stack = Stack(database_url or f"sqlite:///{work}/bench.db", Path(work), now=OPEN_HOURS).start()
        try:
            relayed = load.relays(stack, 5 if quick else 20)  # first: the others fill the agents
            rest = asyncio.run(load.rest_load(stack, customers, messages))
            whatsapp = asyncio.run(load.whatsapp_load(stack, customers, messages))
            notified = asyncio.run(load.escalations(stack, escalations))
            by_turn = asyncio.run(load.long_conversation(stack, turns))
            flood = asyncio.run(load.login_flood(stack, seconds=5 if quick else 10))
            memory = load.peak_memory_mb(stack)
        finally:
            stack.stop()
    return {
        "customers": customers,
        "rest": rest.summary(),
        "whatsapp": whatsapp.summary(),
        "rest_latencies": rest.latencies,
        "whatsapp_latencies": whatsapp.latencies,
        "notification_s": notified,
        "relay_s": relayed,
        "by_turn": by_turn,
        "login_flood": flood,
        "memory_mb": memory,
        "database": "PostgreSQL" if database_url.startswith("postgres") else "SQLite",
    }


def handoff_decisions() -> dict:
    """Held-out handoff decisions of each shipped business, on its own model."""
    return {"handoff": handoff.run_business(DEMO), "handoff_restaurant": handoff.run_business(RESTAURANT)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--reuse-clinc", type=Path, help="results of an earlier CLINC150 run")
    parser.add_argument("--database-url", default=os.environ.get("POSTA_BENCH_DATABASE_URL", ""))
    parser.add_argument("--only-load", action="store_true", help="rerun the load part; reuse the rest")
    parser.add_argument("--only-handoff", action="store_true", help="rerun the handoff decisions; reuse the rest")
    parser.add_argument("--only-relay", action="store_true", help="rerun the photo and text relay timing; in place")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.only_relay:
        with tempfile.TemporaryDirectory() as work:
            stack = Stack(f"sqlite:///{work}/relay.db", Path(work), now=OPEN_HOURS).start()
            try:
                relayed = load.relays(stack, 5 if args.quick else 20)
            finally:
                stack.stop()
        (RESULTS / "relay.json").write_text(json.dumps(relayed, indent=1))
        report.replace_relay_section(relayed, ROOT / "docs" / "benchmarks.md")
        print((ROOT / "docs" / "benchmarks.md").read_text())
        return
    if args.only_handoff:
        decisions = handoff_decisions()
        (RESULTS / "handoff.json").write_text(json.dumps(decisions, indent=1))
        report.replace_handoff_section(decisions, ROOT / "docs" / "benchmarks.md")
        print((ROOT / "docs" / "benchmarks.md").read_text())
        return
    if args.only_load:
        results = json.loads((RESULTS / "results.json").read_text())
        results["load"] = serve_and_load(args.quick, args.database_url)
        (RESULTS / "results.json").write_text(json.dumps(results, indent=1))
        report.write(results, ROOT / "docs" / "benchmarks.md", ROOT / "docs" / "benchmarks.png")
        print((ROOT / "docs" / "benchmarks.md").read_text())
        return
    results = {"quick": args.quick}
    results["training"] = training()
    results.update(handoff_decisions())
    results["load"] = serve_and_load(args.quick, args.database_url)
    if args.reuse_clinc:
        results["clinc"] = json.loads(args.reuse_clinc.read_text())
    else:
        started = time.time()
        results["clinc"] = clinc.run(intents=20 if args.quick else None)
        results["clinc"]["total_seconds"] = time.time() - started
    (RESULTS / "results.json").write_text(json.dumps(results, indent=1))
    report.write(results, ROOT / "docs" / "benchmarks.md", ROOT / "docs" / "benchmarks.png")
    print((ROOT / "docs" / "benchmarks.md").read_text())


if __name__ == "__main__":
    main()
