"""What `make review` writes is Rasa the designer can take: uncommented, its examples pass
`rasa data validate` beside the project's own data, and its stories run in `rasa test`
(the real CLI, the demo's files and model)."""

import shutil
import subprocess
from types import SimpleNamespace

import yaml

from deploy.processes import PYTHON, RASA, ROOT, model
from harness.phones import Phone, judged_in_panel, taken, taken_over
from posta import review


def test_uncommented_review_examples_validate(tmp_path):
    judged = SimpleNamespace(judgment="bot", judged_topic="hours")
    asked = ("abren el feriado del 8? <name> pregunta", "y mañana? a las 9?")
    found = [review.Reviewed(judged, [review.Turn(text, "nlu_fallback")]) for text in asked]
    written = review.nlu_review(found, "2026-12-01")
    # What the designer does: uncomment the example blocks (the header stays a comment).
    lines = [line[2:] if line.startswith(("# - intent", "#   ")) else line for line in written.splitlines()]
    taken = "\n".join(lines).replace("nlu: []", "nlu:")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    (tmp_path / "data" / "review.yml").write_text(taken + "\n")
    checked = subprocess.run(
        [
            RASA,
            "data",
            "validate",
            "--domain",
            str(ROOT / "domain.yml"),
            "--data",
            str(tmp_path / "data"),
            "--config",
            str(ROOT / "config.yml"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]
    assert "- intent: ask_hours" in (tmp_path / "data" / "review.yml").read_text()


def test_make_review_writes_stories_that_rasa_test_runs(stack, cases, ana, tmp_path):
    """Judged on WhatsApp, through the real servers; then `make review`'s command and the real
    `rasa test` on what it wrote: the handoff that was right passes as it happened, the
    question the person judged the bot could answer passes as an answer, and a wrong lesson
    chosen on the review page fails, so CI would hold the designer to it."""
    sore = Phone(stack, name="Marta Gil")  # the name the customer's WhatsApp profile shows
    sore.text("hola")
    sore.wait()
    needed = taken(cases, sore, ana)
    ana.text("listo")
    ana.wait_for_text("¿hacía falta una persona?")
    ana.press(f"posta:judge:{needed.id}:needed", "Sí")
    ana.wait_for_text("anotado en el caso")

    question = "a que hora abren los sabados?"
    could = judged_in_panel(stack, cases, Phone(stack, name="Pedro"), ana, question, "bot:hours", "ana-demo")
    flagged = taken_over(cases, Phone(stack, name="Sin escalar"), ana, "hola")
    admin = stack.panel_session("Carla", "carla-demo")
    panel = stack.panel_session("Ana", "ana-demo")
    wrong = {"choice": "story", "intent": "complaint"}  # "hola" is no complaint: the model disagrees
    assert admin.post(f"{stack.panel_url}/review/case-{flagged.id}", json=wrong).json()["ok"]
    refused = [
        (panel, f"case-{flagged.id}", wrong, 403),  # an agent, not an admin
        (admin, "case-999999", wrong, 404),
        (admin, "rating-x", wrong, 404),
        (admin, f"case-{flagged.id}", {"choice": "story", "intent": "not_an_intent"}, 400),
    ]
    for session, subject, body, status in refused:
        assert session.post(f"{stack.panel_url}/review/{subject}", json=body).status_code == status
    assert cases.history(flagged.id)[-1].detail == '{"choice": "story", "intent": "complaint"}'  # nothing else kept

    made = subprocess.run(
        [PYTHON, "-m", "posta.review", "--days", "1", "--out", str(tmp_path)],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr[-2000:]
    written = next((tmp_path / "tests" / "stories").glob("test_review_*.yml"))
    stories = {s["story"].split(":")[0]: s for s in yaml.safe_load(written.read_text())["stories"]}
    assert stories[f"case-{needed.id}"]["steps"] == [
        {"user": "hola", "intent": "greet"},
        {"action": "utter_greet"},
        {"user": "quiero hablar con una persona", "intent": "request_human"},
        {"action": "action_handoff"},
    ]
    assert "Marta" not in written.read_text() and "Pedro" not in written.read_text()

    def rasa_test(names):
        """`rasa test` (as make test-stories runs it) on the stories of these cases only: the
        shared test database holds other tests' cases too."""
        chosen = tmp_path / f"test_chosen_{len(names)}.yml"  # rasa test reads test_* files only
        chosen.write_text(yaml.safe_dump({"version": "3.1", "stories": [stories[n] for n in names]}))
        out = tmp_path / f"results-{len(names)}"
        command = [RASA, "test", "core", "--model", str(model()), "--stories", str(chosen), "--e2e"]
        command += ["--fail-on-prediction-errors", "--out", str(out)]
        return subprocess.run(command, cwd=ROOT, env=stack.env, capture_output=True, text=True, timeout=600), out

    kept = [f"case-{needed.id}", f"case-{could.id}"]
    passed, _ = rasa_test(kept)
    assert passed.returncode == 0, passed.stdout[-3000:] + passed.stderr[-3000:]
    failed, out = rasa_test(kept + [f"case-{flagged.id}"])
    assert failed.returncode != 0
    assert "intent: complaint  # predicted: greet: hola" in failed.stdout + failed.stderr
