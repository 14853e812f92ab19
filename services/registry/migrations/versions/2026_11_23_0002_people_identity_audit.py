"""People, guardianship, flags, consent, categories and evidence, login (OTP, refresh tokens, staff), audit chain.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = postgresql.UUID(as_uuid=True)
JSONB = postgresql.JSONB()
NOW = sa.func.now()


def _ts(name: str, nullable: bool = False, default: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, server_default=NOW if default else None)


def upgrade() -> None:
    op.add_column("child", sa.Column("flags", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")))
    op.add_column("region", sa.Column("category_codes", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")))
    op.create_table(
        "person",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("iin_index", sa.LargeBinary(), nullable=False),
        sa.Column("iin_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("iin_last4", sa.Text(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text()),
        sa.Column("flags", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        _ts("created_at", default=True),
        sa.UniqueConstraint("iin_index", name="uq_person_iin_index"),
    )
    op.create_table(
        "consent",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("person_id", UUID, sa.ForeignKey("person.id"), nullable=False, index=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        _ts("recorded_at", default=True),
    )
    op.create_table(
        "guardianship",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("child_id", UUID, sa.ForeignKey("child.id"), nullable=False),
        sa.Column("guardian_id", UUID, nullable=False, index=True),
        sa.Column("relation", sa.Text(), nullable=False),
        _ts("established_at", default=True),
        _ts("ended_at", nullable=True),
    )
    op.create_index(
        "uq_guardianship_active",
        "guardianship",
        ["child_id", "guardian_id"],
        unique=True,
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.execute(
        "INSERT INTO guardianship (child_id, guardian_id, relation, established_at)"
        " SELECT id, guardian_id, 'parent', created_at FROM child"
    )
    op.create_table(
        "category_claim",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("child_id", UUID, sa.ForeignKey("child.id"), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date()),
        sa.Column("valid_until", sa.Date()),
        sa.Column("decided_by", sa.Text()),
        sa.Column("reason", sa.Text()),
        _ts("declared_at", default=True),
        _ts("decided_at", nullable=True),
        sa.UniqueConstraint("child_id", "code", name="uq_category_claim_child_code"),
        sa.CheckConstraint("status in ('declared', 'verified', 'rejected')", name="ck_category_claim_status"),
    )
    op.create_table(
        "evidence",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("claim_id", UUID, sa.ForeignKey("category_claim.id"), nullable=False, index=True),
        sa.Column("stored_name", sa.Text(), nullable=False, unique=True),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        _ts("uploaded_at", default=True),
    )
    op.create_table(
        "otp_challenge",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("person_id", UUID, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        _ts("expires_at"),
        _ts("used_at", nullable=True),
        _ts("created_at", default=True),
    )
    op.create_table(
        "refresh_token",
        sa.Column("token_hash", sa.LargeBinary(), primary_key=True),
        sa.Column("family_id", UUID, nullable=False, index=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("scope", JSONB, nullable=False),
        _ts("expires_at"),
        _ts("used_at", nullable=True),
        _ts("revoked_at", nullable=True),
        _ts("created_at", default=True),
    )
    op.create_table(
        "staff",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("username", sa.Text(), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("totp_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("scope", JSONB, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        _ts("created_at", default=True),
    )
    op.create_table(
        "service_account",
        sa.Column("client_id", sa.Text(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        _ts("created_at", default=True),
    )
    op.create_table(
        "assisted_change",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("operator", sa.Text(), nullable=False),
        sa.Column("person_id", UUID, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("challenge_id", UUID, nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("sealed_payload", sa.LargeBinary(), nullable=False),
        _ts("created_at", default=True),
        _ts("applied_at", nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("chain", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        _ts("occurred_at"),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("acting_for", sa.Text()),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(), nullable=False),
        sa.Column("row_hash", sa.LargeBinary(), nullable=False),
        sa.UniqueConstraint("chain", "seq", name="uq_audit_log_chain_seq"),
    )
    op.execute(
        "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log"
        " FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log"
        " FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TABLE audit_log")
    op.execute("DROP FUNCTION audit_log_append_only()")
    for table in ("assisted_change", "service_account", "staff", "refresh_token", "otp_challenge", "evidence", "category_claim", "guardianship", "consent", "person"):
        op.drop_table(table)
    op.drop_column("region", "category_codes")
    op.drop_column("child", "flags")
