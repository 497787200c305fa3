"""`make new-business` lays out a business that is consistent before anyone edits it."""

import pytest

from posta import config, scaffold, topics, validate


def test_a_new_business_validates_as_laid_out(tmp_path):
    target = tmp_path / "bakery"
    written = scaffold.lay_out(target, "Panadería Sol")
    names = {str(p.relative_to(target)) for p in written}
    assert {"business.yml", "topics.yml", "domain.yml", "config.yml", "data/rules.yml"} <= names
    assert any(n.startswith("data/nlu/") for n in names) and any(n.startswith("tests/stories/") for n in names)
    assert validate.check(target) == []
    assert config.load(target / "business.yml").name == "Panadería Sol"
    assert "Panadería Sol" in (target / "domain.yml").read_text()
    assert not any(scaffold.PLACEHOLDER in p.read_text() for p in written)
    assert topics.load(target / topics.FILE).sensitive_topics == {"complaint"}


def test_it_never_writes_over_a_business(tmp_path):
    (tmp_path / "business.yml").write_text("business: {name: Mine}\n")
    with pytest.raises(SystemExit, match="already has files"):
        scaffold.lay_out(tmp_path, "Panadería Sol")
    assert (tmp_path / "business.yml").read_text() == "business: {name: Mine}\n"
