"""Insights' read model: facts of rounds, applications, vouchers, programmes, enrolments, timesheets and payments,
children reduced to a salted key, birth year, district and categories; messaging tables.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from qosym_chassis.migrations import create_messaging_tables, drop_messaging_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("voucher", "timesheet", "round", "region", "programme", "payout", "freshness", "enrolment", "child",
          "application", "accrual")


def upgrade() -> None:
    create_messaging_tables(op.get_bind())
    op.create_table(
        'accrual',
        sa.Column('accrual_id', postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column('provider_id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('programme_id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('region_code', sa.Text(), nullable=False),
        sa.Column('period', sa.Text(), nullable=False),
        sa.Column('amount_tiyn', sa.BigInteger(), nullable=False),
    )
    op.create_table(
        'application',
        sa.Column('application_id', postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column('round_id', postgresql.UUID(as_uuid=True)),
        sa.Column('child_key', sa.Text()),
        sa.Column('region_code', sa.Text()),
        sa.Column('district_code', sa.Text()),
        sa.Column('direction', sa.Text()),
        sa.Column('submitted_at', sa.DateTime(timezone=True)),
        sa.Column('withdrawn_at', sa.DateTime(timezone=True)),
        sa.Column('waitlisted_at', sa.DateTime(timezone=True)),
    )
    op.create_table(
        'child',
        sa.Column('child_key', sa.Text(), primary_key=True),
        sa.Column('region_code', sa.Text()),
        sa.Column('district_code', sa.Text()),
        sa.Column('birth_year', sa.Integer()),
        sa.Column('details_at', sa.DateTime(timezone=True)),
        sa.Column('categories', postgresql.ARRAY(sa.Text())),
        sa.Column('categories_at', sa.DateTime(timezone=True)),
    )
    op.create_table(
        'enrolment',
        sa.Column('enrolment_id', postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column('voucher_id', postgresql.UUID(as_uuid=True)),
        sa.Column('programme_id', postgresql.UUID(as_uuid=True)),
        sa.Column('provider_id', postgresql.UUID(as_uuid=True)),
        sa.Column('region_code', sa.Text()),
        sa.Column('district_code', sa.Text()),
        sa.Column('direction', sa.Text()),
        sa.Column('confirmed_at', sa.DateTime(timezone=True)),
        sa.Column('ended_at', sa.DateTime(timezone=True)),
    )
    op.create_table(
        'freshness',
        sa.Column('scope', sa.Text(), primary_key=True),
        sa.Column('last_event_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        'payout',
        sa.Column('batch_id', postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column('provider_id', postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column('region_code', sa.Text(), nullable=False),
        sa.Column('period', sa.Text(), nullable=False),
        sa.Column('amount_tiyn', sa.BigInteger(), nullable=False),
        sa.Column('paid_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        'programme',
        sa.Column('programme_id', postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column('provider_id', postgresql.UUID(as_uuid=True)),
        sa.Column('region_code', sa.Text()),
        sa.Column('district_code', sa.Text()),
        sa.Column('direction', sa.Text()),
        sa.Column('capacity', sa.Integer()),
        sa.Column('status', sa.Text()),
        sa.Column('source_at', sa.DateTime(timezone=True)),
        sa.Column('closed_at', sa.DateTime(timezone=True)),
    )
    op.create_table(
        'region',
        sa.Column('code', sa.Text(), primary_key=True),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('name', postgresql.JSONB(), nullable=False),
        sa.Column('timezone', sa.Text(), nullable=False),
        sa.Column('districts', postgresql.JSONB(), nullable=False),
        sa.Column('directions', postgresql.JSONB(), nullable=False),
        sa.Column('budget_tiyn', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True)),
    )
    op.create_table(
        'round',
        sa.Column('round_id', postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column('region_code', sa.Text(), nullable=False),
        sa.Column('opens_at', sa.DateTime(timezone=True)),
        sa.Column('closes_at', sa.DateTime(timezone=True)),
        sa.Column('budget_tiyn', sa.BigInteger()),
        sa.Column('closed_at', sa.DateTime(timezone=True)),
    )
    op.create_table(
        'timesheet',
        sa.Column('timesheet_id', postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column('enrolment_id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('programme_id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('provider_id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('region_code', sa.Text(), nullable=False),
        sa.Column('period', sa.Text(), nullable=False),
        sa.Column('planned_sessions', sa.Integer(), nullable=False),
        sa.Column('attended_sessions', sa.Integer()),
        sa.Column('first_attended_on', sa.Date()),
        sa.Column('submitted_at', sa.DateTime(timezone=True)),
        sa.Column('confirmed_at', sa.DateTime(timezone=True)),
        sa.Column('basis', sa.Text()),
        sa.Column('disputed_at', sa.DateTime(timezone=True)),
        sa.Column('resolved_at', sa.DateTime(timezone=True)),
    )
    op.create_table(
        'voucher',
        sa.Column('voucher_id', postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column('application_id', postgresql.UUID(as_uuid=True)),
        sa.Column('round_id', postgresql.UUID(as_uuid=True)),
        sa.Column('child_key', sa.Text()),
        sa.Column('region_code', sa.Text()),
        sa.Column('district_code', sa.Text()),
        sa.Column('direction', sa.Text()),
        sa.Column('monthly_value_tiyn', sa.BigInteger()),
        sa.Column('months', sa.Integer()),
        sa.Column('awarded_at', sa.DateTime(timezone=True)),
        sa.Column('ended_at', sa.DateTime(timezone=True)),
        sa.Column('end_kind', sa.Text()),
    )
    op.create_index("application_region", "application", ["region_code"])
    op.create_index("voucher_region", "voucher", ["region_code"])
    op.create_index("enrolment_region", "enrolment", ["region_code"])
    op.create_index("timesheet_region", "timesheet", ["region_code"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
    drop_messaging_tables(op.get_bind())
