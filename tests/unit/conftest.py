"""The unit tests' own business (tests/unit/business/: a bike shop), never a shipped one.

`business` is its configuration; while the unit tests run, POSTA_BUSINESS points at it too,
so code that reads the process-wide business (`posta.config.current()`,
`posta.topics.current()`) gets it: the core is tested on a trade it was not written for.
"""

from pathlib import Path

import pytest

from posta import config, topics

BUSINESS_DIR = Path(__file__).resolve().parent / "business"
BUSINESS_YML = BUSINESS_DIR / "business.yml"
BUSINESS = config.load(BUSINESS_YML)
TIMEZONE = BUSINESS.timezone
# Its agents' own WhatsApp numbers.
EVA, HUGO, ROSA = (BUSINESS.agent_by_name(name).phone for name in ("Eva", "Hugo", "Rosa"))


@pytest.fixture(scope="package", autouse=True)
def _the_unit_business():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POSTA_BUSINESS", str(BUSINESS_DIR))
        config.current.cache_clear()
        topics.current.cache_clear()
        yield
    config.current.cache_clear()
    topics.current.cache_clear()


@pytest.fixture
def business():
    return config.load(BUSINESS_YML)
