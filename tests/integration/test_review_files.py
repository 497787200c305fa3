"""What `make review` writes is Rasa YAML the designer can take: uncommented, `rasa data
validate` accepts it beside the project's own data (the real CLI, the demo's files)."""

import shutil
import subprocess
from types import SimpleNamespace

from deploy.processes import RASA, ROOT
from posta import review


def test_uncommented_review_examples_validate(tmp_path):
    judged = SimpleNamespace(judgment="bot", judged_topic="hours")
    found = [review.Reviewed(judged, ["abren el feriado del 8? <name> pregunta", "y mañana?"], 0.3, 0.0)]
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
