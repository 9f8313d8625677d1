"""Error code overrides: an account's own solution text and link for a global error code.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "error_code_overrides",
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("error_code_id", sa.String(length=64), nullable=False),
        sa.Column("solution_text", sa.Text(), nullable=True),
        sa.Column("solution_link", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account", "error_code_id", name=op.f("pk_error_code_overrides")),
    )


def downgrade() -> None:
    op.drop_table("error_code_overrides")
