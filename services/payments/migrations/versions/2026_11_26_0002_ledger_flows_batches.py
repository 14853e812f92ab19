"""The double-entry ledger (accounts, transfers, entries: append-only, no overdraft), the flows' records
(rounds, vouchers, enrolments, holds, accruals), payment batches, budget thresholds and parked events.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = r"""
ALTER TABLE region_budget ADD COLUMN timezone TEXT;

CREATE TABLE account (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL,
    kind TEXT NOT NULL,
    allow_negative BOOLEAN NOT NULL,
    region_code TEXT,
    balance BIGINT NOT NULL DEFAULT 0,
    pending_debits BIGINT NOT NULL DEFAULT 0,
    pending_credits BIGINT NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_account_code UNIQUE (code),
    CONSTRAINT ck_account_kind CHECK (kind IN ('treasury', 'round_budget', 'voucher', 'provider_payable', 'settlement')),
    CONSTRAINT ck_account_negative_only_for_sources CHECK (allow_negative = (kind IN ('treasury', 'settlement'))),
    CONSTRAINT ck_account_no_overdraft CHECK (allow_negative OR balance - pending_debits >= 0),
    CONSTRAINT ck_account_pending_non_negative CHECK (pending_debits >= 0 AND pending_credits >= 0)
);

CREATE TABLE transfer (
    id UUID PRIMARY KEY,
    business_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    layer TEXT NOT NULL,
    debit_account_id BIGINT NOT NULL REFERENCES account (id),
    credit_account_id BIGINT NOT NULL REFERENCES account (id),
    amount BIGINT NOT NULL,
    pending_id UUID REFERENCES transfer (id),
    reverses_id UUID REFERENCES transfer (id),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_transfer_business_key UNIQUE (business_key),
    CONSTRAINT uq_transfer_reverses_once UNIQUE (reverses_id),
    CONSTRAINT ck_transfer_kind CHECK (kind IN ('appropriation', 'funding', 'hold', 'post', 'void', 'accrual',
                                                'payout', 'return', 'reversal')),
    CONSTRAINT ck_transfer_amount_positive CHECK (amount > 0),
    CONSTRAINT ck_transfer_two_accounts CHECK (debit_account_id <> credit_account_id),
    CONSTRAINT ck_transfer_layer CHECK ((layer = 'pending') = (kind IN ('hold', 'post', 'void'))
                                       AND layer IN ('pending', 'posted')),
    CONSTRAINT ck_transfer_names_its_hold CHECK ((pending_id IS NOT NULL) = (kind IN ('post', 'void', 'accrual'))),
    CONSTRAINT ck_transfer_names_its_original CHECK ((reverses_id IS NOT NULL) = (kind = 'reversal'))
);
CREATE UNIQUE INDEX uq_transfer_hold_resolves_once ON transfer (pending_id) WHERE kind IN ('post', 'void');
CREATE UNIQUE INDEX uq_transfer_one_accrual_per_hold ON transfer (pending_id) WHERE kind = 'accrual';
CREATE INDEX ix_transfer_debit ON transfer (debit_account_id);
CREATE INDEX ix_transfer_credit ON transfer (credit_account_id);

CREATE TABLE entry (
    id BIGSERIAL PRIMARY KEY,
    transfer_id UUID NOT NULL REFERENCES transfer (id),
    account_id BIGINT NOT NULL REFERENCES account (id),
    amount BIGINT NOT NULL,
    layer TEXT NOT NULL,
    account_version INTEGER NOT NULL,
    CONSTRAINT ck_entry_amount_non_zero CHECK (amount <> 0),
    CONSTRAINT ck_entry_layer CHECK (layer IN ('pending', 'posted')),
    CONSTRAINT uq_entry_account_version UNIQUE (account_id, account_version)
);
CREATE INDEX ix_entry_transfer ON entry (transfer_id);

-- I3: transfers and entries are append-only; corrections are reversing transfers
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % is refused (correct it with a reversing transfer)',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER transfer_append_only BEFORE UPDATE OR DELETE ON transfer
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER transfer_no_truncate BEFORE TRUNCATE ON transfer
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER entry_append_only BEFORE UPDATE OR DELETE ON entry
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER entry_no_truncate BEFORE TRUNCATE ON entry
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- I8, I10: a release returns exactly its hold; an accrual follows its hold's post and pays at most the hold
CREATE FUNCTION transfer_check_links() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    hold transfer%ROWTYPE;
    original transfer%ROWTYPE;
BEGIN
    IF NEW.pending_id IS NOT NULL THEN
        SELECT * INTO hold FROM transfer WHERE id = NEW.pending_id;
        IF hold.kind IS DISTINCT FROM 'hold' THEN
            RAISE EXCEPTION 'transfer % does not name a hold', NEW.id USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.kind IN ('post', 'void') AND (NEW.amount <> hold.amount OR NEW.debit_account_id <> hold.credit_account_id
                OR NEW.credit_account_id <> hold.debit_account_id) THEN
            RAISE EXCEPTION 'a release returns exactly its hold' USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.kind = 'accrual' AND (NEW.amount > hold.amount OR NEW.debit_account_id <> hold.debit_account_id
                OR NEW.credit_account_id <> hold.credit_account_id
                OR NOT EXISTS (SELECT 1 FROM transfer WHERE pending_id = NEW.pending_id AND kind = 'post')) THEN
            RAISE EXCEPTION 'an accrual follows the post of its hold and pays at most the held amount'
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    IF NEW.reverses_id IS NOT NULL THEN
        SELECT * INTO original FROM transfer WHERE id = NEW.reverses_id;
        IF original.layer IS DISTINCT FROM 'posted' OR original.kind = 'reversal' OR NEW.amount <> original.amount
                OR NEW.debit_account_id <> original.credit_account_id
                OR NEW.credit_account_id <> original.debit_account_id THEN
            RAISE EXCEPTION 'a reversal mirrors a posted transfer' USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER transfer_links BEFORE INSERT ON transfer FOR EACH ROW EXECUTE FUNCTION transfer_check_links();

-- I2: at commit, every transfer has exactly two entries that net to zero
CREATE FUNCTION transfer_check_entries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n INTEGER;
    total BIGINT;
BEGIN
    SELECT count(*), coalesce(sum(amount), 0) INTO n, total FROM entry WHERE transfer_id = NEW.id;
    IF n <> 2 OR total <> 0 THEN
        RAISE EXCEPTION 'transfer % has % entries summing to %, not two netting to zero', NEW.id, n, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER transfer_two_entries AFTER INSERT ON transfer
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION transfer_check_entries();

CREATE TABLE funding_round (
    round_id UUID PRIMARY KEY,
    region_code TEXT NOT NULL,
    budget_tiyn BIGINT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES account (id),
    opened_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT ck_funding_round_budget_non_negative CHECK (budget_tiyn >= 0)
);
CREATE INDEX ix_funding_round_region ON funding_round (region_code);

CREATE TABLE voucher (
    voucher_id UUID PRIMARY KEY,
    round_id UUID NOT NULL REFERENCES funding_round (round_id),
    region_code TEXT NOT NULL,
    child_id UUID NOT NULL,
    direction TEXT NOT NULL,
    monthly_value_tiyn BIGINT NOT NULL,
    months INTEGER NOT NULL,
    valid_until DATE NOT NULL,
    requested_tiyn BIGINT NOT NULL,
    status TEXT NOT NULL,
    account_id BIGINT REFERENCES account (id),
    available_at_refusal_tiyn BIGINT,
    ended_reason TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ended_at TIMESTAMPTZ,
    CONSTRAINT ck_voucher_status CHECK (status IN ('funded', 'refused', 'ended')),
    CONSTRAINT ck_voucher_refused_has_no_account CHECK ((account_id IS NULL) = (available_at_refusal_tiyn IS NOT NULL)),
    CONSTRAINT ck_voucher_money_positive CHECK (monthly_value_tiyn > 0 AND months >= 1 AND requested_tiyn > 0)
);
CREATE INDEX ix_voucher_round ON voucher (round_id);

CREATE TABLE provider (
    provider_id UUID PRIMARY KEY,
    bin TEXT NOT NULL,
    name TEXT NOT NULL,
    region_code TEXT NOT NULL,
    iban TEXT,
    bank_bic TEXT,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE enrolment (
    enrolment_id UUID PRIMARY KEY,
    voucher_id UUID NOT NULL REFERENCES voucher (voucher_id),
    provider_id UUID NOT NULL,
    child_id UUID NOT NULL,
    programme_id UUID NOT NULL,
    region_code TEXT NOT NULL,
    price_per_month_tiyn BIGINT NOT NULL,
    sessions_per_month INTEGER NOT NULL,
    first_period TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    ended_period TEXT,
    confirmed_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ,
    CONSTRAINT ck_enrolment_status CHECK (status IN ('active', 'ended')),
    CONSTRAINT ck_enrolment_price_non_negative CHECK (price_per_month_tiyn >= 0)
);
CREATE INDEX ix_enrolment_voucher ON enrolment (voucher_id);
CREATE INDEX ix_enrolment_provider ON enrolment (provider_id);

CREATE TABLE hold (
    transfer_id UUID PRIMARY KEY REFERENCES transfer (id),
    enrolment_id UUID NOT NULL REFERENCES enrolment (enrolment_id),
    period TEXT NOT NULL,
    seq INTEGER NOT NULL,
    amount_tiyn BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    resolved_at TIMESTAMPTZ,
    CONSTRAINT ck_hold_status CHECK (status IN ('open', 'posted', 'voided')),
    CONSTRAINT uq_hold_enrolment_period_seq UNIQUE (enrolment_id, period, seq)
);
CREATE UNIQUE INDEX uq_hold_one_open_per_month ON hold (enrolment_id, period) WHERE status = 'open';
CREATE INDEX ix_hold_open_period ON hold (period) WHERE status = 'open';

CREATE TABLE accrual (
    accrual_id UUID PRIMARY KEY,
    enrolment_id UUID NOT NULL REFERENCES enrolment (enrolment_id),
    period TEXT NOT NULL,
    provider_id UUID NOT NULL,
    child_id UUID NOT NULL,
    voucher_id UUID NOT NULL,
    round_id UUID NOT NULL,
    programme_id UUID NOT NULL,
    timesheet_id UUID NOT NULL,
    region_code TEXT NOT NULL,
    amount_tiyn BIGINT NOT NULL,
    payable_sessions INTEGER NOT NULL,
    planned_sessions INTEGER NOT NULL,
    price_per_month_tiyn BIGINT NOT NULL,
    transfer_id UUID REFERENCES transfer (id),
    cause_event_id UUID NOT NULL,
    batch_id UUID,
    paid_at TIMESTAMPTZ,
    posted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_accrual_enrolment_period UNIQUE (enrolment_id, period),
    CONSTRAINT ck_accrual_amount_non_negative CHECK (amount_tiyn >= 0),
    CONSTRAINT ck_accrual_transfer_iff_amount CHECK ((transfer_id IS NOT NULL) = (amount_tiyn > 0))
);
CREATE INDEX ix_accrual_provider_period ON accrual (provider_id, period);
CREATE INDEX ix_accrual_region_period_unbatched ON accrual (region_code, period) WHERE batch_id IS NULL;
CREATE INDEX ix_accrual_round ON accrual (round_id, period);

CREATE TABLE payment_batch (
    batch_id UUID PRIMARY KEY,
    region_code TEXT NOT NULL,
    period TEXT NOT NULL,
    status TEXT NOT NULL,
    prepared_by TEXT NOT NULL,
    approved_by TEXT,
    providers INTEGER NOT NULL,
    total_tiyn BIGINT NOT NULL,
    prepared_at TIMESTAMPTZ NOT NULL,
    approved_at TIMESTAMPTZ,
    paid_at TIMESTAMPTZ,
    order_xml TEXT,
    order_sha256 TEXT,
    CONSTRAINT ck_payment_batch_status CHECK (status IN ('prepared', 'approved', 'paid', 'cancelled')),
    CONSTRAINT ck_payment_batch_maker_is_not_checker CHECK (approved_by IS NULL OR approved_by <> prepared_by),
    CONSTRAINT ck_payment_batch_total_positive CHECK (total_tiyn > 0 AND providers >= 1),
    CONSTRAINT ck_payment_batch_order_when_approved CHECK (
        (status IN ('approved', 'paid')) = (order_sha256 IS NOT NULL AND approved_by IS NOT NULL))
);
CREATE UNIQUE INDEX uq_payment_batch_one_prepared ON payment_batch (region_code, period) WHERE status = 'prepared';

CREATE TABLE batch_item (
    item_id UUID PRIMARY KEY,
    batch_id UUID NOT NULL REFERENCES payment_batch (batch_id),
    provider_id UUID NOT NULL,
    amount_tiyn BIGINT NOT NULL,
    accruals INTEGER NOT NULL,
    end_to_end_id TEXT NOT NULL,
    payout_transfer_id UUID REFERENCES transfer (id),
    treasury_reference TEXT,
    paid_at TIMESTAMPTZ,
    CONSTRAINT uq_batch_item_batch_provider UNIQUE (batch_id, provider_id),
    CONSTRAINT uq_batch_item_end_to_end_id UNIQUE (end_to_end_id),
    CONSTRAINT ck_batch_item_amount_positive CHECK (amount_tiyn > 0),
    CONSTRAINT ck_batch_item_paid_with_payout CHECK ((paid_at IS NULL) = (payout_transfer_id IS NULL))
);
CREATE INDEX ix_batch_item_provider ON batch_item (provider_id);

CREATE TABLE budget_threshold (
    round_id UUID NOT NULL REFERENCES funding_round (round_id),
    threshold_percent INTEGER NOT NULL,
    committed_tiyn BIGINT NOT NULL,
    reached_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (round_id, threshold_percent)
);

CREATE TABLE parked_event (
    id BIGSERIAL PRIMARY KEY,
    waiting_for TEXT NOT NULL,
    event_id UUID NOT NULL,
    event_type TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload JSONB NOT NULL,
    parked_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_parked_event_event_id UNIQUE (event_id)
);
CREATE INDEX ix_parked_event_waiting_for ON parked_event (waiting_for);
"""

DOWNGRADE = r"""
DROP TABLE parked_event;
DROP TABLE budget_threshold;
DROP TABLE batch_item;
DROP TABLE payment_batch;
DROP TABLE accrual;
DROP TABLE hold;
DROP TABLE enrolment;
DROP TABLE provider;
DROP TABLE voucher;
DROP TABLE funding_round;
DROP TABLE entry;
DROP TABLE transfer;
DROP FUNCTION transfer_check_entries();
DROP FUNCTION transfer_check_links();
DROP FUNCTION ledger_append_only();
DROP TABLE account;
ALTER TABLE region_budget DROP COLUMN timezone;
"""


def statements(script: str) -> list[str]:
    """Split a script on semicolons at line ends, except inside $$-quoted function bodies."""
    found, current, quoted = [], [], False
    for line in script.splitlines():
        current.append(line)
        quoted ^= line.count("$$") % 2 == 1
        if not quoted and line.rstrip().endswith(";"):
            statement = "\n".join(current).strip().rstrip(";")
            if any(not part.strip().startswith("--") for part in statement.splitlines() if part.strip()):
                found.append(statement)
            current = []
    return found


def upgrade() -> None:
    for statement in statements(UPGRADE):
        op.execute(statement)


def downgrade() -> None:
    for statement in statements(DOWNGRADE):
        op.execute(statement)
