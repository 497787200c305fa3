"""`make new-business DIR=businesses/bakery NAME="Panadería Sol"`: lays out the files a new
business needs, from a small generic one (template/) that validates as it is: business.yml
for the owner, topics.yml, domain.yml, config.yml, data/ and tests/stories/ for the
designer. docs/your-business.md goes on from there."""

from __future__ import annotations

import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "template"
PLACEHOLDER = "Mi Negocio"


def lay_out(target: Path, name: str) -> list:
    """Copies the template to `target` (which must not exist or be empty) with the
    business's name in it; returns the files written."""
    if target.exists() and any(target.iterdir()):
        raise SystemExit(f"{target} already has files: choose a new directory")
    if not name.strip():
        raise SystemExit('give the business a name: NAME="Panadería Sol"')
    written = []
    for source in sorted(TEMPLATE.rglob("*")):
        if source.is_dir():
            continue
        destination = target / source.relative_to(TEMPLATE)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(source.read_text(encoding="utf-8").replace(PLACEHOLDER, name), encoding="utf-8")
        written.append(destination)
    return written


def main(argv: list) -> int:
    if len(argv) != 2 or not argv[0]:
        print('usage: make new-business DIR=businesses/bakery NAME="Panadería Sol"', file=sys.stderr)
        return 2
    target = Path(argv[0])
    for path in lay_out(target, argv[1]):
        print(f"  wrote {path}")
    print(
        f"\nNext (docs/your-business.md): edit {target}/business.yml (hours, team, phones) and "
        f"{target}/topics.yml, then\n  make validate POSTA_BUSINESS={target}\n"
        f"  make test-stories POSTA_BUSINESS={target}\n  make run POSTA_BUSINESS={target}"
    )
    return 0
