"""A batch of ledger transfers in one round trip: ``ledger_transfer_many(arrays)``, the set-based form of
``ledger_transfer`` (migration 0003).

It locks the union of the batch's accounts in ascending id order before anything else (so two batches over
overlapping accounts, in whatever order their events came, never deadlock), judges every transfer by the rules
of ``ledger_transfer`` in the batch's order, and writes the batch whole or not at all. Every constraint and trigger
of migration 0002 stays as it was and still guards what this function writes: each transfer row passes the link
trigger (which sees the rows inserted before it by the same statement), each account row the no-overdraft and
pending CHECKs, and the deferred trigger still counts two entries netting to zero per transfer at commit.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = r"""
-- The rules are those of ledger_transfer, applied to the transfers in array order (ord = position, from 1):
-- 1. the union of the batch's accounts is locked in ascending id order, before any rule is judged;
-- 2. a transfer whose id or business key is already in the ledger is 'exists' when it tells the same intent
--    (nothing written for it) and 'conflict' otherwise;
-- 3. a hold or a posted transfer may not take its debited account (unless a source) below zero, counting the
--    effects of the batch's earlier transfers on that account: 'overdraft';
-- 4. a hold already posted or voided in the ledger is not released again: 'resolved';
-- 5. otherwise 'created'.
-- If any transfer is refused (no_account, conflict, overdraft, resolved) nothing at all is written and every
-- outcome is returned: the caller's transaction stays usable. Otherwise the new transfers are inserted in order,
-- each account's balances move once by the sum of its effects (its version by its number of entries), and the
-- entries are written with consecutive account versions in the batch's order, as one call per transfer would.
-- Two transfers of the batch with the same id or business key, or a hold released twice within the batch, are
-- refused by the unique indexes of migration 0002 (an error: the batch is not applied).
CREATE FUNCTION ledger_transfer_many(
    p_ids UUID[], p_business_keys TEXT[], p_kinds TEXT[], p_debits TEXT[], p_credits TEXT[], p_amounts BIGINT[],
    p_pending_ids UUID[], p_reverses_ids UUID[]
) RETURNS TABLE (
    ord BIGINT,                -- the transfer's position in the arrays, from 1
    outcome TEXT,              -- created | exists | conflict | overdraft | resolved | no_account
    transfer_id UUID,          -- the transfer written, or the original one (exists, conflict)
    transfer_key TEXT,
    transfer_kind TEXT,
    debit_code TEXT,
    credit_code TEXT,
    transfer_amount BIGINT,
    hold_id UUID,
    original_id UUID,
    debit_available BIGINT     -- the debited account's available balance before this transfer (after earlier ones)
) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    n INTEGER := coalesce(cardinality(p_ids), 0);
    v_outcomes TEXT[];
    v_debit_ids BIGINT[];
    v_credit_ids BIGINT[];
    v_ids UUID[];
    v_keys TEXT[];
    v_kinds TEXT[];
    v_debits TEXT[];
    v_credits TEXT[];
    v_amounts BIGINT[];
    v_pending UUID[];
    v_reverses UUID[];
    v_available BIGINT[];
BEGIN
    IF n = 0 THEN
        RETURN;
    END IF;
    IF coalesce(cardinality(p_business_keys), 0) <> n OR coalesce(cardinality(p_kinds), 0) <> n
            OR coalesce(cardinality(p_debits), 0) <> n OR coalesce(cardinality(p_credits), 0) <> n
            OR coalesce(cardinality(p_amounts), 0) <> n OR coalesce(cardinality(p_pending_ids), 0) <> n
            OR coalesce(cardinality(p_reverses_ids), 0) <> n THEN
        RAISE EXCEPTION 'ledger_transfer_many: the arrays differ in length' USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- 1. lock the union of the batch's accounts, lowest id first
    PERFORM 1 FROM account a WHERE a.code = ANY (p_debits || p_credits) ORDER BY a.id FOR UPDATE;

    -- 2.-5. judge every transfer in order (under the locks: the balances read are those the writes start from)
    WITH u AS (
        SELECT x.* FROM unnest(p_ids, p_business_keys, p_kinds, p_debits, p_credits, p_amounts, p_pending_ids,
                               p_reverses_ids) WITH ORDINALITY
            AS x(id, business_key, kind, debit, credit, amount, pending_id, reverses_id, ord)
    ), p AS (
        SELECT u.*, d.id AS debit_id, c.id AS credit_id, d.allow_negative AS debit_negative,
               d.balance - d.pending_debits AS debit_start, k.id AS known_id, k.business_key AS known_key,
               k.kind AS known_kind, k.debit AS known_debit, k.credit AS known_credit, k.amount AS known_amount,
               k.pending_id AS known_pending, k.reverses_id AS known_reverses
        FROM u
        LEFT JOIN account d ON d.code = u.debit
        LEFT JOIN account c ON c.code = u.credit
        LEFT JOIN LATERAL (  -- two probes, each by its unique index (see ledger_transfer)
            SELECT * FROM (
                SELECT t.id, t.business_key, t.kind, td.code AS debit, tc.code AS credit, t.amount, t.pending_id,
                       t.reverses_id, 1 AS pref
                FROM transfer t JOIN account td ON td.id = t.debit_account_id
                    JOIN account tc ON tc.id = t.credit_account_id
                WHERE t.id = u.id
                UNION ALL
                SELECT t.id, t.business_key, t.kind, td.code, tc.code, t.amount, t.pending_id, t.reverses_id, 2
                FROM transfer t JOIN account td ON td.id = t.debit_account_id
                    JOIN account tc ON tc.id = t.credit_account_id
                WHERE t.business_key = u.business_key
            ) found ORDER BY found.pref LIMIT 1
        ) k ON true
    ), fx AS (  -- each new transfer's effect on the available balance (balance - pending debits) of its accounts
        SELECT p.ord, p.debit_id AS account_id, true AS is_debit,
               CASE WHEN p.kind IN ('post', 'void') THEN 0 ELSE -p.amount END AS delta
        FROM p WHERE p.known_id IS NULL AND p.debit_id IS NOT NULL AND p.credit_id IS NOT NULL
        UNION ALL
        SELECT p.ord, p.credit_id, false, CASE WHEN p.kind = 'hold' THEN 0 ELSE p.amount END
        FROM p WHERE p.known_id IS NULL AND p.debit_id IS NOT NULL AND p.credit_id IS NOT NULL
    ), earlier AS (  -- what the batch's earlier transfers did to each debited account's available balance
        SELECT fx.ord, fx.is_debit, coalesce(sum(fx.delta) OVER (PARTITION BY fx.account_id ORDER BY fx.ord
                                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS moved
        FROM fx
    ), judged AS (
        SELECT p.*, p.debit_start + coalesce(e.moved, 0) AS available,
            CASE
                WHEN p.debit_id IS NULL OR p.credit_id IS NULL THEN 'no_account'
                WHEN p.known_id IS NOT NULL THEN
                    CASE WHEN p.known_key = p.business_key
                              AND (p.known_kind, p.known_debit, p.known_credit, p.known_amount)
                                  = (p.kind, p.debit, p.credit, p.amount)
                              AND p.known_pending IS NOT DISTINCT FROM p.pending_id
                              AND p.known_reverses IS NOT DISTINCT FROM p.reverses_id
                         THEN 'exists' ELSE 'conflict' END
                WHEN p.kind NOT IN ('post', 'void') AND NOT p.debit_negative
                     AND p.debit_start + coalesce(e.moved, 0) < p.amount THEN 'overdraft'
                WHEN p.kind IN ('post', 'void') AND EXISTS (
                        SELECT 1 FROM transfer r WHERE r.pending_id = p.pending_id AND r.kind IN ('post', 'void'))
                     THEN 'resolved'
                ELSE 'created'
            END AS outcome
        FROM p LEFT JOIN earlier e ON e.ord = p.ord AND e.is_debit
    )
    SELECT array_agg(j.outcome ORDER BY j.ord), array_agg(j.debit_id ORDER BY j.ord),
           array_agg(j.credit_id ORDER BY j.ord),
           array_agg(CASE WHEN j.known_id IS NULL THEN j.id ELSE j.known_id END ORDER BY j.ord),
           array_agg(CASE WHEN j.known_id IS NULL THEN j.business_key ELSE j.known_key END ORDER BY j.ord),
           array_agg(CASE WHEN j.known_id IS NULL THEN j.kind ELSE j.known_kind END ORDER BY j.ord),
           array_agg(CASE WHEN j.known_id IS NULL THEN j.debit ELSE j.known_debit END ORDER BY j.ord),
           array_agg(CASE WHEN j.known_id IS NULL THEN j.credit ELSE j.known_credit END ORDER BY j.ord),
           array_agg(CASE WHEN j.known_id IS NULL THEN j.amount ELSE j.known_amount END ORDER BY j.ord),
           array_agg(CASE WHEN j.known_id IS NULL THEN j.pending_id ELSE j.known_pending END ORDER BY j.ord),
           array_agg(CASE WHEN j.known_id IS NULL THEN j.reverses_id ELSE j.known_reverses END ORDER BY j.ord),
           array_agg(j.available ORDER BY j.ord)
        INTO v_outcomes, v_debit_ids, v_credit_ids, v_ids, v_keys, v_kinds, v_debits, v_credits, v_amounts,
             v_pending, v_reverses, v_available
        FROM judged j;

    IF NOT ('no_account' = ANY (v_outcomes) OR 'conflict' = ANY (v_outcomes) OR 'overdraft' = ANY (v_outcomes)
            OR 'resolved' = ANY (v_outcomes)) THEN
        -- the transfers, in the batch's order (the link trigger of each sees the holds and posts before it)
        INSERT INTO transfer (id, business_key, kind, layer, debit_account_id, credit_account_id, amount,
                              pending_id, reverses_id)
            SELECT w.id, w.business_key, w.kind,
                   CASE WHEN w.kind IN ('hold', 'post', 'void') THEN 'pending' ELSE 'posted' END,
                   w.debit_id, w.credit_id, w.amount, w.pending_id, w.reverses_id
            FROM unnest(v_ids, v_keys, v_kinds, v_amounts, v_pending, v_reverses, v_debit_ids, v_credit_ids,
                        v_outcomes) WITH ORDINALITY
                AS w(id, business_key, kind, amount, pending_id, reverses_id, debit_id, credit_id, outcome, ord)
            WHERE w.outcome = 'created'
            ORDER BY w.ord;

        -- each transfer's two legs: the entries, and what they move on their accounts
        WITH w AS (
            SELECT w.* FROM unnest(v_ids, v_kinds, v_amounts, v_debit_ids, v_credit_ids, v_outcomes)
                WITH ORDINALITY AS w(id, kind, amount, debit_id, credit_id, outcome, ord)
            WHERE w.outcome = 'created'
        ), legs AS (
            SELECT w.ord, w.id, w.debit_id AS account_id, -w.amount AS amount,
                   CASE WHEN w.kind IN ('hold', 'post', 'void') THEN 'pending' ELSE 'posted' END AS layer,
                   CASE WHEN w.kind IN ('hold', 'post', 'void') THEN 0 ELSE -w.amount END AS d_balance,
                   CASE WHEN w.kind = 'hold' THEN w.amount ELSE 0 END AS d_pending_debits,
                   CASE WHEN w.kind IN ('post', 'void') THEN -w.amount ELSE 0 END AS d_pending_credits
            FROM w
            UNION ALL
            SELECT w.ord, w.id, w.credit_id, w.amount,
                   CASE WHEN w.kind IN ('hold', 'post', 'void') THEN 'pending' ELSE 'posted' END,
                   CASE WHEN w.kind IN ('hold', 'post', 'void') THEN 0 ELSE w.amount END,
                   CASE WHEN w.kind IN ('post', 'void') THEN -w.amount ELSE 0 END,
                   CASE WHEN w.kind = 'hold' THEN w.amount ELSE 0 END
            FROM w
        ), moved AS (
            UPDATE account a SET balance = a.balance + s.d_balance,
                                 pending_debits = a.pending_debits + s.d_pending_debits,
                                 pending_credits = a.pending_credits + s.d_pending_credits,
                                 version = a.version + s.legs
            FROM (SELECT legs.account_id, sum(legs.d_balance) AS d_balance,
                         sum(legs.d_pending_debits) AS d_pending_debits,
                         sum(legs.d_pending_credits) AS d_pending_credits, count(*) AS legs
                  FROM legs GROUP BY legs.account_id) s
            WHERE a.id = s.account_id
            RETURNING a.id
        )
        INSERT INTO entry (transfer_id, account_id, amount, layer, account_version)
            SELECT legs.id, legs.account_id, legs.amount, legs.layer,
                   a.version + row_number() OVER (PARTITION BY legs.account_id ORDER BY legs.ord)
            FROM legs JOIN account a ON a.id = legs.account_id  -- the versions before this statement's update
            ORDER BY legs.ord, legs.amount;
    END IF;

    RETURN QUERY SELECT r.ord, r.outcome, r.id, r.business_key, r.kind, r.debit, r.credit, r.amount, r.pending_id,
            r.reverses_id, r.available
        FROM unnest(v_outcomes, v_ids, v_keys, v_kinds, v_debits, v_credits, v_amounts, v_pending, v_reverses,
                    v_available) WITH ORDINALITY
            AS r(outcome, id, business_key, kind, debit, credit, amount, pending_id, reverses_id, available, ord)
        ORDER BY r.ord;
END $$;
"""

DOWNGRADE = """
DROP FUNCTION ledger_transfer_many(UUID[], TEXT[], TEXT[], TEXT[], TEXT[], BIGINT[], UUID[], UUID[]);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
