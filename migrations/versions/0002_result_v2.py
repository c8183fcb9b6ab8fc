"""result document version 2: per-person results

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

Rows written before this revision keep ``schema_version`` 1 and no ``people``; the gateway upgrades them on read
(``services.common.result_upgrade``).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('analysis_results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('schema_version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('people', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('analysis_results', schema=None) as batch_op:
        batch_op.drop_column('people')
        batch_op.drop_column('schema_version')
