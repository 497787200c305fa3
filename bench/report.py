"""Writes docs/benchmarks.md (tables) and docs/benchmarks.png (latency plots)."""

from __future__ import annotations

import platform
import statistics
from datetime import date
from pathlib import Path
from typing import Dict, List, Optional


def write(results: Dict, markdown: Path, plot: Path) -> None:
    markdown.write_text("\n".join(_lines(results, plot.name)) + "\n")
    _plot(results["load"], plot)


def _lines(r: Dict, plot_name: str) -> List[str]:
    load, clinc, training = r["load"], r["clinc"], r["training"]
    rest, wa = load["rest"], load["whatsapp"]
    ratio = (wa["p50_ms"] / rest["p50_ms"]) if rest["p50_ms"] else None
    notified = sorted(load["notification_s"])
    lines = [
        "# Benchmarks",
        "",
        f"Run on {date.today().isoformat()}, {platform.machine()}, {_cores()} cores, "
        f"{'quick mode' if r.get('quick') else 'full run'} (`make bench`). Every figure below is measured "
        "by `bench/`; nothing is copied from elsewhere except the paper's rows, which say so.",
        "",
        "## 1. Out-of-scope detection on CLINC150",
        "",
        f"{clinc['intents']} intents, {clinc['train_examples']} training examples; test: {clinc['test_in_scope']} "
        f"in-scope and {clinc['test_oos']} out-of-scope messages. Posta's pipeline (`config.yml`) with only the "
        "spaCy pipeline swapped for a blank English one with English lemmas; the optical-store safety net left out. "
        "A message is out of scope when its top confidence is under the threshold or its nearest training example is "
        "less similar than *familiar*. Both chosen on the validation split: *balanced* maximises in-scope accuracy + "
        "OOS recall; *target* is the best OOS recall keeping validation in-scope accuracy at 95% or more. AUROC: of "
        "one minus the top confidence, on the test split. DIET is trained once per variant; the project's blend, DIET "
        "alone and the embeddings alone are read from the same training (`bench/pipeline.py`).",
        "",
        "| pipeline | threshold / familiar | in-scope accuracy | OOS recall | OOS precision | OOS F1 | AUROC |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, accuracy, recall in clinc["paper"]:
        lines.append(f"| {name} | — | {accuracy:.1%} | {recall:.1%} | — | — | — |")
    for row in clinc["rows"]:
        name = f"**{row['pipeline']}**" if row["pipeline"].startswith("Posta") else row["pipeline"]
        lines.append(
            f"| {name}, {row['variant']}, {row['rule']} | {row['threshold']:.2f} / "
            f"{row.get('familiar', 0.0):.2f} | {row['in_scope_accuracy']:.1%} | {row['oos_recall']:.1%} | "
            f"{row['oos_precision']:.1%} | {row['oos_f1']:.3f} | {row.get('auroc', float('nan')):.3f} |"
        )
    seconds = clinc.get("total_seconds")
    lines += [
        "",
        f"Training: {', '.join(f'{k} {v:.0f} s' for k, v in clinc['train_seconds'].items())}"
        + (f"; whole CLINC150 benchmark {seconds / 60:.0f} min." if seconds else "."),
        "",
    ]
    lines += _handoff_sections(r)
    lines += [
        "## 3. Latency, throughput and memory through the real servers",
        "",
        f"One Rasa server, one action server and one outbox worker on {load['database']}, driven on loopback by "
        f"{load['customers']} "
        f"customers at once (closed loop), {rest['messages']} messages per channel. REST: request to response. "
        "WhatsApp: signed webhook POST to the reply's arrival at the local Graph API fake.",
        "",
        "| channel | p50 | p95 | p99 | messages/s | answered | lost | duplicated | webhook ack p50 / p99 |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| REST | {rest['p50_ms']} ms | {rest['p95_ms']} ms | {rest['p99_ms']} ms | {rest['per_second']} | "
        f"{rest['answered']} | {rest['lost']} | {rest['duplicated']} | — |",
        f"| WhatsApp | {wa['p50_ms']} ms | {wa['p95_ms']} ms | {wa['p99_ms']} ms | {wa['per_second']} | "
        f"{wa['answered']} | {wa['lost']} | {wa['duplicated']} | {wa['ack_p50_ms']} / {wa['ack_p99_ms']} ms |",
        "",
        f"- WhatsApp p50 / REST p50: **{ratio:.2f}** (target ≤ 1.10)." if ratio else "- ratio: n/a",
        f"- Throughput, WhatsApp / REST: {wa['per_second'] / rest['per_second']:.2f}. With customers waiting for "
        "each answer, the server is saturated and p50 follows throughput: the WhatsApp path does more per message in "
        "the Rasa server (signature and parsing, the inbox row, the case lookup, the outbox row), and this machine's "
        "2 cores also run the Graph API fake and the load generator."
        if rest["per_second"]
        else "",
        f"- Webhook acknowledged in {wa['ack_p99_ms']} ms at p99 (target < 50 ms).",
        f"- Escalating message to the agent's notification ({len(notified)} escalations): p50 "
        f"{_pct(notified, 50):.2f} s, p95 {_pct(notified, 95):.2f} s (target < 1 s at p95)."
        if notified
        else "",
        _relay_line(load.get("relay_s")),
        _flood_line(load.get("login_flood")),
        f"- Peak resident memory: Rasa server {load['memory_mb'].get('rasa')} MB, action server "
        f"{load['memory_mb'].get('actions')} MB, outbox worker {load['memory_mb'].get('worker')} MB.",
        "",
    ]
    by_turn = load["by_turn"]
    turns = len(by_turn["rest"])
    if turns >= 100:
        early, late = slice(0, 50), slice(turns - 50, turns)
        lines += [
            f"One conversation of {turns} turns per channel: p50 of turns 1–50 vs the last 50: "
            f"REST {_median_ms(by_turn['rest'][early])} → {_median_ms(by_turn['rest'][late])} ms; "
            f"WhatsApp {_median_ms(by_turn['whatsapp'][early])} → {_median_ms(by_turn['whatsapp'][late])} ms.",
            "",
        ]
    lines += [
        f"![latency]({plot_name})",
        "",
        "## 4. Training",
        "",
        f"`rasa train` of the project from scratch: {training['seconds']:.0f} s; model {training['model_mb']} MB.",
        "",
    ]
    return [line for line in lines if line is not None]


def _plot(load: Dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for name, values in (("REST", load["rest_latencies"]), ("WhatsApp", load["whatsapp_latencies"])):
        ordered = sorted(v * 1000 for v in values)
        if ordered:
            left.plot(ordered, [i / len(ordered) for i in range(len(ordered))], label=name)
    left.set_xlabel("latency (ms)")
    left.set_ylabel("share of messages")
    left.set_title(f"{load['customers']} customers at once")
    left.legend()
    for name in ("rest", "whatsapp"):
        values = [v * 1000 for v in load["by_turn"][name]]
        window = 10
        smooth = [statistics.median(values[max(0, i - window) : i + 1]) for i in range(len(values))]
        right.plot(range(1, len(values) + 1), smooth, label="REST" if name == "rest" else "WhatsApp")
    right.set_xlabel("turn of one conversation")
    right.set_ylabel("latency (ms, running median)")
    right.set_title("Does latency grow with the conversation?")
    right.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _pct(values: List[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(percent / 100 * (len(ordered) - 1))))]


def _median_ms(values: List[float]) -> Optional[float]:
    return round(statistics.median(values) * 1000, 1) if values else None


def _cores() -> int:
    import os

    return os.cpu_count() or 0


def _flood_line(flood) -> str:
    if not flood or not flood.get("idle_ack_p99_ms"):
        return ""
    ratio = flood["flood_ack_p99_ms"] / flood["idle_ack_p99_ms"]
    return (
        f"- A flood of {flood['logins_per_second']} panel logins a second (a new name and address each, so "
        f"every one is hashed; answers {flood['logins']}): webhook acknowledged in "
        f"{flood['idle_ack_p50_ms']} / {flood['idle_ack_p99_ms']} ms (p50 / p99) before it and "
        f"{flood['flood_ack_p50_ms']} / {flood['flood_ack_p99_ms']} ms during it, a p99 ratio of **{ratio:.2f}**."
    )


SET_NAMES = {
    "test": "`eval/nlu_test.yml`, written with the training data",
    "hard": "`eval/nlu_hard.yml`, written apart and frozen",
}


RELAY = "- A customer's message to the phone of the agent who owns the chat"


def _relay_line(relayed: Optional[Dict[str, List[float]]]) -> str:
    """A photo (download, keep, upload, send by id) beside a text, to the agent's phone."""
    if not relayed or not relayed.get("photo"):
        return ""
    text, photo = sorted(relayed["text"]), sorted(relayed["photo"])
    return (
        f"{RELAY} ({len(photo)} of each, alternating): text p50 {1000 * _pct(text, 50):.0f} ms, p95 "
        f"{1000 * _pct(text, 95):.0f} ms; a 300 KB photo (downloaded, kept, uploaded, sent by id) p50 "
        f"{1000 * _pct(photo, 50):.0f} ms, p95 {1000 * _pct(photo, 95):.0f} ms, a p50 ratio of "
        f"**{_pct(photo, 50) / _pct(text, 50):.2f}**."
    )


def replace_relay_section(relayed: Dict[str, List[float]], markdown: Path) -> None:
    """Puts the relay line (`--only-relay`) in section 3 of an earlier report, saying when."""
    lines = markdown.read_text().split("\n")
    new = _relay_line(relayed) + f" (Rerun on {date.today().isoformat()}, `python -m bench --only-relay`.)"
    at = next((n for n, line in enumerate(lines) if line.startswith(RELAY)), None)
    if at is None:  # after the escalation line of section 3
        at = next(n for n, line in enumerate(lines) if line.startswith("- Escalating message")) + 1
        lines.insert(at, new)
    else:
        lines[at] = new
    markdown.write_text("\n".join(lines))


def replace_handoff_section(decisions: Dict, markdown: Path) -> None:
    """Rewrites section 2 of an earlier report with new decisions (`--only-handoff`),
    saying when; the other sections stay as measured."""
    text = markdown.read_text()
    start, end = text.index("## 2. Handoff decisions"), text.index("## 3. ")
    section = _handoff_sections(decisions)
    section[2:2] = [f"Section rerun on {date.today().isoformat()} (`python -m bench --only-handoff`).", ""]
    markdown.write_text(text[:start] + "\n".join(section) + "\n" + text[end:])


def _handoff_sections(r: Dict) -> List[str]:
    lines = _handoff_lines(r["handoff"])
    if r.get("handoff_restaurant"):
        title = "### The second business: Casa Lola, a restaurant (`businesses/restaurant/`)"
        lines += _handoff_lines(r["handoff_restaurant"], title, RESTAURANT_SETS)
    return lines


RESTAURANT_SETS = {
    "test": "`businesses/restaurant/eval/nlu_test.yml`, written with the training data",
    "hard": "`businesses/restaurant/eval/nlu_hard.yml`, written apart and frozen",
}


def _handoff_lines(
    handoff: Dict, title: str = "## 2. Handoff decisions on held-out messages", set_names: Dict = SET_NAMES
) -> List[str]:
    """Section 2 (and its second business): one column per held-out set."""
    sets = handoff.get("sets") or {"test": handoff}
    names = list(sets)

    def cells(value) -> str:
        return " | ".join(value(sets[n]) for n in names)

    def missed(reason: str):
        return lambda h: f"{h['missed'][reason]} of {h['needs_person'].get(reason, 0)}"

    lines = [
        title,
        "",
        "Customer messages in Spanish and English never trained on ("
        + "; ".join(f"{set_names.get(n, n)}: {sets[n]['messages']}" for n in names)
        + "), parsed by the trained model; "
        "the reason is what `action_handoff` would decide. Targets: no missed request or sensitive case, at most 5% "
        "of unsure ones missed and of answerable ones handed off, no reply in the wrong language.",
        "",
        "| | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
        f"| missed handoffs, requested | {cells(missed('requested'))} |",
        f"| missed handoffs, sensitive | {cells(missed('sensitive'))} |",
        f"| missed handoffs, unsure | {cells(missed('unsure'))} |",
        f"| handed off, but for another reason | {cells(lambda h: str(h['handed_off_with_another_reason']))} |",
        f"| unnecessary handoffs | {cells(_unnecessary)} |",
        f"| replies in the wrong language | {cells(_wrong_language)} |",
        f"| AUROC of the handoff score | {cells(_auroc)} |",
        "",
    ]
    for name in names:
        examples = sets[name]["missed_examples"]
        if examples:
            lines += [f"Missed ({name}):", ""] + [f'- {reason}: "{text}"' for text, reason in examples] + [""]
    return lines


def _unnecessary(h: Dict) -> str:
    return f"{h['unnecessary']} of {h['answerable']} ({h['unnecessary_rate']:.1%})"


def _wrong_language(h: Dict) -> str:
    return "—" if h.get("wrong_language") is None else f"{h['wrong_language']} of {h['with_language']}"


def _auroc(h: Dict) -> str:
    return "—" if h.get("auroc") is None else f"{h['auroc']:.3f}"
