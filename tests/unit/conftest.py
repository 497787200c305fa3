"""The unit tests' own business (tests/unit/business.yml), never the demo one.

`business` is its configuration; while the unit tests run, POSTA_CONFIG points at it too,
so code that reads the process-wide configuration (`posta.config.current()`) gets it.
"""

from pathlib import Path

import pytest

from posta import config

BUSINESS_YML = Path(__file__).resolve().parent / "business.yml"
BUSINESS = config.load(BUSINESS_YML)
TIMEZONE = BUSINESS.timezone
# Its agents' own WhatsApp numbers.
EVA, HUGO, ROSA = (BUSINESS.agent_by_name(name).phone for name in ("Eva", "Hugo", "Rosa"))


@pytest.fixture(scope="package", autouse=True)
def _the_unit_business():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POSTA_CONFIG", str(BUSINESS_YML))
        config.current.cache_clear()
        yield
    config.current.cache_clear()


@pytest.fixture
def business():
    return config.load(BUSINESS_YML)
