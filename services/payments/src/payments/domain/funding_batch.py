"""A batch of voucher awards planned at once: which are funded from their round's budget and which refused whole,
as one ``on_voucher_awarded`` per event in the batch's order would decide, from the budgets' balances read under
their locks. Pure: it reads no database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from uuid import UUID

from payments.domain.aggregates import Round
from payments.domain.ledger import AccountKind, Transfer, TransferKind, account_code


@dataclass(frozen=True)
class Award:
    event_id: UUID
    voucher_id: UUID
    round: Round
    requested_tiyn: int  # the monthly value × the months

    @property
    def voucher_account(self) -> str:
        return account_code(AccountKind.VOUCHER, self.voucher_id)


@dataclass(frozen=True)
class Funding:
    """One award decided: funded (its transfer) or refused (``transfer`` None), with the round budget's available
    balance before it and its balance after it."""

    award: Award
    transfer: Transfer | None
    available_before: int
    balance_after: int
    thresholds_crossed: tuple[int, ...]  # the levels this funding's committed money crossed first


def thresholds_crossed(budget_tiyn: int, balance: int, levels: Iterable[int], reached: Iterable[int]) -> list[int]:
    """The configured levels (percent of the budget) the committed money (budget − balance) has reached and that
    were not reached before, in ascending order."""
    if budget_tiyn == 0:
        return []
    committed = budget_tiyn - balance
    known = set(reached)
    return [p for p in sorted(set(levels)) if committed * 100 >= p * budget_tiyn and p not in known]


def plan_fundings(
    awards: Iterable[Award],
    available: Mapping[str, int],
    balance: Mapping[str, int],
    levels: Iterable[int],
    reached: Mapping[UUID, frozenset[int]],
    new_id: Callable[[], UUID],
) -> list[Funding]:
    """Each award in order: funded when its round's budget (as the earlier awards left it) has what it requests,
    refused whole otherwise. ``available`` and ``balance`` are the round budget accounts' under their locks."""
    left, held = dict(available), dict(balance)
    known = {round_id: set(levels_reached) for round_id, levels_reached in reached.items()}
    wanted = sorted(set(levels))
    planned: list[Funding] = []
    for award in awards:
        budget = award.round.budget_account
        before = left[budget]
        transfer = None
        crossed: list[int] = []
        if before >= award.requested_tiyn:
            transfer = Transfer(
                new_id(),
                f"fund:{award.voucher_id}",
                TransferKind.FUNDING,
                budget,
                award.voucher_account,
                award.requested_tiyn,
            )
            left[budget] -= award.requested_tiyn
            held[budget] -= award.requested_tiyn
            reached_before = known.setdefault(award.round.round_id, set())
            crossed = thresholds_crossed(award.round.budget_tiyn, held[budget], wanted, reached_before)
            reached_before.update(crossed)
        planned.append(Funding(award, transfer, before, held[budget], tuple(crossed)))
    return planned
