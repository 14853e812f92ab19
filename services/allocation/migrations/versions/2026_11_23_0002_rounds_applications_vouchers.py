"""Rounds, applications, vouchers; guardianship and category projections.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for statement in SCHEMA.split(";\n"):
        if statement.strip():
            op.execute(statement)


SCHEMA = (
    """
        CREATE TABLE guardianship (
            child_id uuid NOT NULL,
            guardian_id uuid NOT NULL,
            active boolean NOT NULL,
            changed_at timestamptz NOT NULL,
            CONSTRAINT pk_guardianship PRIMARY KEY (child_id, guardian_id)
        );
        CREATE INDEX ix_guardianship_guardian_id ON guardianship (guardian_id);

        CREATE TABLE child_categories_as_of (
            child_id uuid PRIMARY KEY,
            as_of timestamptz NOT NULL
        );
        CREATE TABLE child_category (
            child_id uuid NOT NULL,
            code text NOT NULL,
            valid_from date NOT NULL,
            valid_until date,
            CONSTRAINT pk_child_category PRIMARY KEY (child_id, code, valid_from)
        );

        CREATE TABLE round (
            round_id uuid PRIMARY KEY,
            region_code text NOT NULL REFERENCES region (code),
            name text NOT NULL,
            state text NOT NULL DEFAULT 'draft'
                CONSTRAINT ck_round_state CHECK (state IN ('draft', 'open', 'closed', 'allocated')),
            budget_tiyn bigint NOT NULL CONSTRAINT ck_round_budget_positive CHECK (budget_tiyn > 0),
            spent_tiyn bigint NOT NULL DEFAULT 0,
            voucher_count integer CONSTRAINT ck_round_voucher_count_positive CHECK (voucher_count > 0),
            awarded_count integer NOT NULL DEFAULT 0,
            application_opens_at timestamptz NOT NULL,
            application_closes_at timestamptz NOT NULL,
            reference_date date NOT NULL,
            voucher_valid_until date NOT NULL,
            assignment_deadline_days integer NOT NULL,
            release_grace_days integer NOT NULL,
            policy jsonb NOT NULL,
            seed bytea NOT NULL CONSTRAINT ck_round_seed_length CHECK (length(seed) = 32),
            seed_sha256 text NOT NULL,
            result jsonb,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            opened_at timestamptz,
            closed_at timestamptz,
            allocated_at timestamptz,
            CONSTRAINT ck_round_spent_within_budget CHECK (spent_tiyn >= 0 AND spent_tiyn <= budget_tiyn),
            CONSTRAINT ck_round_awarded_within_count CHECK (awarded_count >= 0 AND (voucher_count IS NULL OR awarded_count <= voucher_count)),
            CONSTRAINT ck_round_window CHECK (application_closes_at > application_opens_at)
        );
        CREATE INDEX ix_round_region_code ON round (region_code);

        CREATE TABLE round_quota (
            round_id uuid NOT NULL REFERENCES round (round_id),
            district_code text NOT NULL,
            direction text NOT NULL,
            quota integer NOT NULL CONSTRAINT ck_round_quota_quota CHECK (quota >= 0),
            awarded integer NOT NULL DEFAULT 0,
            CONSTRAINT pk_round_quota PRIMARY KEY (round_id, district_code, direction),
            CONSTRAINT ck_round_quota_within CHECK (awarded >= 0 AND awarded <= quota)
        );
        CREATE TABLE round_direction (
            round_id uuid NOT NULL REFERENCES round (round_id),
            direction text NOT NULL,
            quota integer NOT NULL,
            awarded integer NOT NULL DEFAULT 0,
            cost_tiyn bigint NOT NULL CONSTRAINT ck_round_direction_cost CHECK (cost_tiyn > 0),
            CONSTRAINT pk_round_direction PRIMARY KEY (round_id, direction),
            CONSTRAINT ck_round_direction_within CHECK (awarded >= 0 AND awarded <= quota)
        );

        CREATE TABLE application (
            application_id uuid PRIMARY KEY,
            public_id uuid NOT NULL,
            round_id uuid NOT NULL REFERENCES round (round_id),
            child_id uuid NOT NULL,
            guardian_id uuid NOT NULL,
            district_code text NOT NULL,
            direction text NOT NULL,
            status text NOT NULL DEFAULT 'submitted' CONSTRAINT ck_application_status
                CHECK (status IN ('submitted', 'withdrawn', 'awarded', 'waitlisted')),
            submitted_at timestamptz NOT NULL DEFAULT now(),
            withdrawn_at timestamptz,
            score integer,
            lottery bytea,
            rank integer,
            allocated_outcome text CONSTRAINT ck_application_outcome CHECK (allocated_outcome IN ('awarded', 'waitlisted')),
            allocated_via text,
            waitlist_position integer,
            CONSTRAINT uq_application_public_id UNIQUE (public_id)
        );
        CREATE UNIQUE INDEX uq_application_round_child ON application (round_id, child_id) WHERE status <> 'withdrawn';
        CREATE INDEX ix_application_round_rank ON application (round_id, rank);
        CREATE INDEX ix_application_child_id ON application (child_id);
        CREATE INDEX ix_application_guardian_id ON application (guardian_id);

        CREATE TABLE voucher (
            voucher_id uuid PRIMARY KEY,
            round_id uuid NOT NULL REFERENCES round (round_id),
            application_id uuid NOT NULL REFERENCES application (application_id),
            child_id uuid NOT NULL,
            region_code text NOT NULL,
            district_code text NOT NULL,
            direction text NOT NULL,
            via text NOT NULL CONSTRAINT ck_voucher_via CHECK (via IN ('quota', 'flow')),
            monthly_value_tiyn bigint NOT NULL CONSTRAINT ck_voucher_value CHECK (monthly_value_tiyn > 0),
            months integer NOT NULL,
            cost_tiyn bigint NOT NULL,
            valid_until date NOT NULL,
            assign_by date NOT NULL,
            status text NOT NULL DEFAULT 'awarded' CONSTRAINT ck_voucher_status
                CHECK (status IN ('awarded', 'assigned', 'released', 'expired', 'revoked')),
            enrolment_id uuid,
            released_at timestamptz,
            reassignable_until date,
            awarded_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_voucher_application_id UNIQUE (application_id),
            CONSTRAINT ck_voucher_assigned_has_enrolment CHECK ((status = 'assigned') = (enrolment_id IS NOT NULL))
        );
        CREATE INDEX ix_voucher_child_id ON voucher (child_id);
        CREATE UNIQUE INDEX uq_voucher_enrolment_id ON voucher (enrolment_id) WHERE enrolment_id IS NOT NULL;
        """
)


def downgrade() -> None:
    for table in ("voucher", "application", "round_direction", "round_quota", "round", "child_category",
                  "child_categories_as_of", "guardianship"):
        op.execute(f"DROP TABLE {table}")
