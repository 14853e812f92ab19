"""The pure rules of reviews: the 30-day edit window and ratings shown only from five on."""

from datetime import UTC, datetime, timedelta

from catalog.domain.reviews import EDIT_WINDOW, MIN_VISIBLE_RATINGS, editable, ratings

WRITTEN = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)


def test_a_review_is_editable_for_thirty_days_and_not_a_moment_longer() -> None:
    assert timedelta(days=30) == EDIT_WINDOW
    assert editable(WRITTEN, WRITTEN)
    assert editable(WRITTEN, WRITTEN + timedelta(days=29, hours=23))
    assert not editable(WRITTEN, WRITTEN + timedelta(days=30))
    assert not editable(WRITTEN, WRITTEN + timedelta(days=45))


def test_ratings_are_hidden_below_five() -> None:
    assert MIN_VISIBLE_RATINGS == 5
    assert ratings({}) is None
    assert ratings({5: 4}) is None
    assert ratings({1: 1, 5: 3}) is None


def test_ratings_from_five_give_count_mean_and_distribution() -> None:
    shown = ratings({5: 2, 4: 2, 3: 1})
    assert shown is not None
    assert (shown.count, shown.mean) == (5, 4.2)
    assert shown.distribution == {"1": 0, "2": 0, "3": 1, "4": 2, "5": 2}


def test_the_mean_is_rounded_to_two_decimals_and_unknown_stars_are_ignored() -> None:
    shown = ratings({1: 1, 2: 1, 5: 4, 7: 9})
    assert shown is not None
    assert (shown.count, shown.mean) == (6, 3.83)
    thirds = ratings({5: 2, 4: 1, 1: 3})
    assert thirds is not None
    assert thirds.mean == round(17 / 6, 2)
