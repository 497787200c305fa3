import pytest


@pytest.fixture(autouse=True)
def _each_test_starts_with_free_agents(agents_free):
    yield
