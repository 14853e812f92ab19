"""Allocation results in their own insert-only tables; applications keep only what the guardian submitted.

An allocation run writes one ``allocation_result`` row per ranked application (score, its breakdown, lottery
number, rank, what the run decided and the waitlist position it gave) and one ``allocation_cutoff`` row per
district × direction (the last application the run awarded there), instead of rewriting every application row.
Neither table is ever updated or deleted from (a statement trigger refuses it). What is live (awarded after a
re-offer, the position now) follows from the results and the vouchers: ``application_outcome`` is that view.

Existing allocated rounds are moved: one run each, its results and cutoffs from the application columns (the
score breakdown computed from the child's categories, as the explanation computed it until now), then the
application columns are dropped and awarded / waitlisted applications are ``submitted`` again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEW = """
CREATE VIEW application_outcome AS
SELECT a.application_id, a.public_id, a.round_id, a.child_id, a.guardian_id, a.district_code, a.direction,
       CASE WHEN a.status = 'withdrawn' OR res.outcome IS NULL THEN a.status
            WHEN res.outcome = 'awarded' OR EXISTS (SELECT 1 FROM voucher v WHERE v.application_id = a.application_id)
            THEN 'awarded' ELSE 'waitlisted' END AS status,
       a.submitted_at, a.withdrawn_at, res.score, res.lottery, res.rank, res.outcome AS allocated_outcome,
       res.via AS allocated_via, res.waitlist_position, res.score_breakdown, res.run_id
FROM application a
LEFT JOIN LATERAL (
    SELECT run_id FROM allocation_run r WHERE r.round_id = a.round_id ORDER BY r.run_no DESC LIMIT 1
) latest ON true
LEFT JOIN allocation_result res ON res.run_id = latest.run_id AND res.application_id = a.application_id
"""

UPGRADE = [
    """CREATE TABLE allocation_run (
        run_id uuid PRIMARY KEY,
        round_id uuid NOT NULL REFERENCES round (round_id),
        run_no integer NOT NULL,
        allocated_at timestamptz NOT NULL,
        CONSTRAINT uq_allocation_run_round_run_no UNIQUE (round_id, run_no)
    )""",
    # no foreign key to application: the rows are selected from application in the same statement, and a
    # per-row key check would cost more than the insert itself at national scale
    """CREATE TABLE allocation_result (
        run_id uuid NOT NULL REFERENCES allocation_run (run_id),
        application_id uuid NOT NULL,
        child_id uuid NOT NULL,
        district_code text NOT NULL,
        direction text NOT NULL,
        score integer NOT NULL,
        score_breakdown jsonb NOT NULL,
        lottery bytea NOT NULL,
        rank integer NOT NULL,
        outcome text NOT NULL,
        via text,
        waitlist_position integer,
        CONSTRAINT pk_allocation_result PRIMARY KEY (run_id, application_id),
        CONSTRAINT ck_allocation_result_outcome CHECK (
            (outcome = 'awarded' AND via IN ('quota', 'flow') AND waitlist_position IS NULL)
            OR (outcome = 'waitlisted' AND via IS NULL AND waitlist_position > 0))
    )""",
    "CREATE INDEX ix_allocation_result_cell ON allocation_result (run_id, district_code, direction, rank)",
    """CREATE TABLE allocation_cutoff (
        run_id uuid NOT NULL REFERENCES allocation_run (run_id),
        district_code text NOT NULL,
        direction text NOT NULL,
        rank integer NOT NULL,
        score integer NOT NULL,
        lottery bytea NOT NULL,
        CONSTRAINT pk_allocation_cutoff PRIMARY KEY (run_id, district_code, direction)
    )""",
    """CREATE FUNCTION allocation_insert_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is insert-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END $$""",
    *(
        f"""CREATE TRIGGER tr_{table}_insert_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION allocation_insert_only()"""
        for table in ("allocation_run", "allocation_result", "allocation_cutoff")
    ),
    # --- move what earlier allocations wrote into the application rows
    """INSERT INTO allocation_run (run_id, round_id, run_no, allocated_at)
       SELECT gen_random_uuid(), r.round_id, 1, coalesce(r.allocated_at, now()) FROM round r
       WHERE EXISTS (SELECT 1 FROM application a WHERE a.round_id = r.round_id AND a.rank IS NOT NULL)""",
    """INSERT INTO allocation_result (run_id, application_id, child_id, district_code, direction, score,
                                      score_breakdown, lottery, rank, outcome, via, waitlist_position)
       SELECT run.run_id, a.application_id, a.child_id, a.district_code, a.direction, a.score,
              coalesce((SELECT jsonb_agg(jsonb_build_array(v.code, coalesce((r.policy -> 'weights' ->> v.code)::int, 0))
                                         ORDER BY v.code COLLATE "C")
                        FROM (SELECT DISTINCT c.code FROM child_category c
                              WHERE c.child_id = a.child_id AND c.valid_from <= r.reference_date
                                AND (c.valid_until IS NULL OR c.valid_until >= r.reference_date)) v), '[]'),
              a.lottery, a.rank, a.allocated_outcome, a.allocated_via, a.waitlist_position
       FROM application a JOIN round r USING (round_id) JOIN allocation_run run USING (round_id)
       WHERE a.rank IS NOT NULL""",
    """INSERT INTO allocation_cutoff (run_id, district_code, direction, rank, score, lottery)
       SELECT DISTINCT ON (run_id, district_code, direction) run_id, district_code, direction, rank, score, lottery
       FROM allocation_result WHERE outcome = 'awarded'
       ORDER BY run_id, district_code, direction, rank DESC""",
    "UPDATE application SET status = 'submitted' WHERE status IN ('awarded', 'waitlisted')",
    "ALTER TABLE application DROP CONSTRAINT ck_application_status",
    """ALTER TABLE application ADD CONSTRAINT ck_application_status CHECK (status IN ('submitted', 'withdrawn'))""",
    """ALTER TABLE application DROP COLUMN score, DROP COLUMN lottery, DROP COLUMN rank,
                               DROP COLUMN allocated_outcome, DROP COLUMN allocated_via, DROP COLUMN waitlist_position""",
    "CREATE INDEX ix_application_round_id ON application (round_id)",
    VIEW,
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP VIEW application_outcome")
    op.execute("DROP INDEX ix_application_round_id")
    op.execute(
        """ALTER TABLE application ADD COLUMN score integer, ADD COLUMN lottery bytea, ADD COLUMN rank integer,
               ADD COLUMN allocated_outcome text CONSTRAINT ck_application_outcome
                   CHECK (allocated_outcome IN ('awarded', 'waitlisted')),
               ADD COLUMN allocated_via text, ADD COLUMN waitlist_position integer"""
    )
    op.execute("ALTER TABLE application DROP CONSTRAINT ck_application_status")
    op.execute(
        """ALTER TABLE application ADD CONSTRAINT ck_application_status
               CHECK (status IN ('submitted', 'withdrawn', 'awarded', 'waitlisted'))"""
    )
    op.execute(
        """UPDATE application a SET score = res.score, lottery = res.lottery, rank = res.rank,
                  allocated_outcome = res.outcome, allocated_via = res.via, waitlist_position = res.waitlist_position,
                  status = CASE WHEN res.outcome = 'awarded' OR EXISTS (
                                    SELECT 1 FROM voucher v WHERE v.application_id = a.application_id)
                                THEN 'awarded' ELSE 'waitlisted' END
           FROM allocation_result res
           JOIN (SELECT DISTINCT ON (round_id) round_id, run_id FROM allocation_run ORDER BY round_id, run_no DESC) latest
             USING (run_id)
           WHERE res.application_id = a.application_id AND a.status <> 'withdrawn'"""
    )
    op.execute("CREATE INDEX ix_application_round_rank ON application (round_id, rank)")
    for table in ("allocation_cutoff", "allocation_result", "allocation_run"):
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP FUNCTION allocation_insert_only()")
