"""Rounds: one registration round per term; misses and appeals looked up as the rules need.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The province sets *the* term's registration round (seed 000: one 学籍注册 per 年度 + 季节);
    # a second one for the same term is refused, also when two requests race.
    op.create_index(
        "ux_round_registration_term",
        "round",
        ["term"],
        unique=True,
        postgresql_where=sa.text("kind = 'registration'"),
    )
    # The clock looks for rounds that are due: few rows, but looked up every few seconds.
    op.create_index("ix_round_state_starts", "round", ["state", "starts_at"])
    # Closing checks leave per student; the appeal queues list pending appeals per decider.
    op.create_index("ix_appeal_state_county", "appeal", ["state", "county_code"])
    op.create_index("ix_miss_prompt_student_term", "miss_prompt", ["student_id", "term"])


def downgrade() -> None:
    op.drop_index("ix_miss_prompt_student_term", table_name="miss_prompt")
    op.drop_index("ix_appeal_state_county", table_name="appeal")
    op.drop_index("ix_round_state_starts", table_name="round")
    op.drop_index("ux_round_registration_term", table_name="round")
