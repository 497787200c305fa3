import pytest

from posta.store import CaseStore
from tests.stack import MODEL, Stack

# Wednesday 25 November 2026, 11:00 in Buenos Aires: open; Ana (sales) and Bruno
# (support) are on shift, Carla starts at 14:00.
OPEN_HOURS = "2026-11-25T11:00"
# Sunday 29 November, 23:10: closed; back Monday at 10:00.
AFTER_HOURS = "2026-11-29T23:10"


@pytest.fixture(scope="session")
def stack(database_url, tmp_path_factory):
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does it for you)")
    stack = Stack(database_url, tmp_path_factory.mktemp("stack"), now=OPEN_HOURS).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def cases(database_url):
    return CaseStore(database_url)


@pytest.fixture
def sender(stack):
    return stack.new_sender()


@pytest.fixture(autouse=True)
def agents_free(cases):
    """Each test starts with every agent free: open cases from earlier tests are closed."""
    yield
    for case in cases.cases():
        if case.is_open:
            cases.close(case.conversation_id, by="test-cleanup")
