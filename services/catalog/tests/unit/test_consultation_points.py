import pytest

from catalog.domain.consultation_points import supersedes

pytestmark = pytest.mark.unit


def test_the_first_revision_of_a_region_is_taken() -> None:
    assert supersedes(1, None)


def test_a_newer_revision_replaces_the_points() -> None:
    assert supersedes(3, 2)


@pytest.mark.parametrize(("incoming", "stored"), [(2, 2), (1, 2), (2, 7)])
def test_an_older_or_equal_revision_is_stale(incoming: int, stored: int) -> None:
    assert not supersedes(incoming, stored)
