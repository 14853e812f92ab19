"""One ledger transfer in one round trip: ``ledger_transfer(...)`` locks, checks and writes it.

It replaces six statements per transfer from the application (lock, look up, check, insert the transfer,
move the balances, insert the entries). Every constraint and trigger of migration 0002 stays as it was and
still guards what this function writes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = r"""
-- The rules are those of payments.domain.ledger (LedgerModel is their executable specification):
-- 1. both accounts are locked in ascending id order, so transfers sharing accounts never deadlock;
-- 2. a transfer whose id or business key is already known writes nothing and returns the original
--    (the caller tells the same intent, a no-op, from another one, a conflict);
-- 3. a hold and a posted transfer may not take the debited account below zero (unless it is a source):
--    'overdraft', nothing written;
-- 4. a hold is released (post or void) once: 'resolved', nothing written;
-- 5. otherwise the transfer is inserted, both balances move and the two entries are written: 'created'.
-- Refusals are returned, not raised, so the caller's transaction stays usable; the CHECK constraints,
-- unique indexes and triggers of migration 0002 refuse whatever this function would wrongly write.
CREATE FUNCTION ledger_transfer(
    p_id UUID, p_business_key TEXT, p_kind TEXT, p_debit TEXT, p_credit TEXT, p_amount BIGINT,
    p_pending_id UUID, p_reverses_id UUID
) RETURNS TABLE (
    outcome TEXT,              -- created | exists | overdraft | resolved | no_account
    transfer_id UUID,          -- the transfer written, or the original one (exists)
    transfer_key TEXT,
    transfer_kind TEXT,
    debit_code TEXT,
    credit_code TEXT,
    transfer_amount BIGINT,
    hold_id UUID,
    original_id UUID,
    debit_available BIGINT     -- the debited account's balance - pending_debits before the transfer
) LANGUAGE plpgsql AS $$
DECLARE
    layer TEXT := CASE WHEN p_kind IN ('hold', 'post', 'void') THEN 'pending' ELSE 'posted' END;
    locked account%ROWTYPE;
    debit account%ROWTYPE;
    credit account%ROWTYPE;
    debit_version INTEGER;
    credit_version INTEGER;
BEGIN
    -- 1. lock the two accounts, lowest id first
    FOR locked IN SELECT * FROM account WHERE code IN (p_debit, p_credit) ORDER BY id FOR UPDATE LOOP
        IF locked.code = p_debit THEN debit := locked; ELSE credit := locked; END IF;
    END LOOP;
    IF debit.id IS NULL OR credit.id IS NULL THEN  -- the missing one's code is NULL
        RETURN QUERY SELECT 'no_account', p_id, p_business_key, p_kind, debit.code, credit.code, p_amount,
            p_pending_id, p_reverses_id, NULL::BIGINT;
        RETURN;
    END IF;

    -- 2. the same id or business key again: the original, nothing written (two lookups, each by its unique
    --    index: one plan for "id = … OR business_key = …" may scan the whole table)
    RETURN QUERY SELECT 'exists', t.id, t.business_key, t.kind, d.code, c.code, t.amount, t.pending_id,
            t.reverses_id, debit.balance - debit.pending_debits
        FROM transfer t JOIN account d ON d.id = t.debit_account_id JOIN account c ON c.id = t.credit_account_id
        WHERE t.id = p_id;
    IF FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT 'exists', t.id, t.business_key, t.kind, d.code, c.code, t.amount, t.pending_id,
            t.reverses_id, debit.balance - debit.pending_debits
        FROM transfer t JOIN account d ON d.id = t.debit_account_id JOIN account c ON c.id = t.credit_account_id
        WHERE t.business_key = p_business_key;
    IF FOUND THEN
        RETURN;
    END IF;

    -- 3. no overdraft: a hold reserves and a posted transfer takes money from the debited account
    IF (p_kind = 'hold' OR layer = 'posted') AND NOT debit.allow_negative
            AND debit.balance - debit.pending_debits < p_amount THEN
        RETURN QUERY SELECT 'overdraft', p_id, p_business_key, p_kind, p_debit, p_credit, p_amount,
            p_pending_id, p_reverses_id, debit.balance - debit.pending_debits;
        RETURN;
    END IF;

    -- 4. a hold is posted or voided once
    IF p_kind IN ('post', 'void')
            AND EXISTS (SELECT 1 FROM transfer WHERE pending_id = p_pending_id AND kind IN ('post', 'void')) THEN
        RETURN QUERY SELECT 'resolved', p_id, p_business_key, p_kind, p_debit, p_credit, p_amount,
            p_pending_id, p_reverses_id, debit.balance - debit.pending_debits;
        RETURN;
    END IF;

    -- 5. write it: the transfer, both balances (each account's version counts its entries), the two entries
    INSERT INTO transfer (id, business_key, kind, layer, debit_account_id, credit_account_id, amount,
                          pending_id, reverses_id)
        VALUES (p_id, p_business_key, p_kind, layer, debit.id, credit.id, p_amount, p_pending_id, p_reverses_id);
    IF p_kind = 'hold' THEN
        -- reserve: the money stays on the debited account but is no longer available
        UPDATE account SET pending_debits = pending_debits + p_amount, version = version + 1
            WHERE id = debit.id RETURNING version INTO debit_version;
        UPDATE account SET pending_credits = pending_credits + p_amount, version = version + 1
            WHERE id = credit.id RETURNING version INTO credit_version;
    ELSIF p_kind IN ('post', 'void') THEN
        -- release the hold (its accounts reversed: debit = the hold's credited account)
        UPDATE account SET pending_credits = pending_credits - p_amount, version = version + 1
            WHERE id = debit.id RETURNING version INTO debit_version;
        UPDATE account SET pending_debits = pending_debits - p_amount, version = version + 1
            WHERE id = credit.id RETURNING version INTO credit_version;
    ELSE
        -- posted: the money moves
        UPDATE account SET balance = balance - p_amount, version = version + 1
            WHERE id = debit.id RETURNING version INTO debit_version;
        UPDATE account SET balance = balance + p_amount, version = version + 1
            WHERE id = credit.id RETURNING version INTO credit_version;
    END IF;
    INSERT INTO entry (transfer_id, account_id, amount, layer, account_version)
        VALUES (p_id, debit.id, -p_amount, layer, debit_version), (p_id, credit.id, p_amount, layer, credit_version);
    RETURN QUERY SELECT 'created', p_id, p_business_key, p_kind, p_debit, p_credit, p_amount, p_pending_id,
        p_reverses_id, debit.balance - debit.pending_debits;
END $$;
"""

DOWNGRADE = """
DROP FUNCTION ledger_transfer(UUID, TEXT, TEXT, TEXT, TEXT, BIGINT, UUID, UUID);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
