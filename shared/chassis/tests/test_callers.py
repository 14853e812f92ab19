"""Role sets are declared once: unions keep order, refuse unknown roles, and each alias admits exactly its set."""

from __future__ import annotations

import pytest

from qosym_chassis import callers
from qosym_chassis.auth import ROLES


def test_unions_keep_first_seen_order_without_repeats() -> None:
    assert callers.roles(callers.PARENTS, callers.OFFICIALS, callers.OPERATORS) == (
        "parent",
        "operator",
        "administrator",
    )


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown role"):
        callers.roles(("headmaster",))


def test_every_named_set_holds_only_known_roles() -> None:
    named = [value for name, value in vars(callers).items() if name.isupper() and isinstance(value, tuple)]
    assert named and all(set(value) <= set(ROLES) for value in named)
    assert set(callers.EVERYONE) == set(ROLES)
