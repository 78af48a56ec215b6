"""Crews' skills: the services each crew handles, in crew_services (replacing the unused specialty text).

Revision ID: a4e8c2d6f1b3
Revises: 7c3d9e1f2a6b
Create Date: 2026-11-23

Suggestions rank crews by skill before distance; a comma-separated text column could name codes that do
not exist and could not be joined, so the codes already typed there are carried over as rows.
"""
import sqlalchemy as sa
from alembic import op

revision = "a4e8c2d6f1b3"
down_revision = "7c3d9e1f2a6b"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "crew_services",
        sa.Column("crew_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["crew_id"], ["crews.id"], name=op.f("fk_crew_services_crew_id_crews"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_crew_services_service_id_services"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("crew_id", "service_id", name=op.f("pk_crew_services")),
    )
    op.create_index(op.f("ix_crew_services_service_id"), "crew_services", ["service_id"], unique=False)
    bind = op.get_bind()
    codes = {code: sid for sid, code in bind.execute(sa.text("SELECT id, code FROM services"))}
    rows = []
    for crew_id, specialty in bind.execute(sa.text("SELECT id, specialty FROM crews")):
        wanted = {c.strip() for c in (specialty or "").split(",") if c.strip()}
        rows += [{"c": crew_id, "s": codes[c]} for c in sorted(wanted) if c in codes]
    if rows:
        bind.execute(sa.text("INSERT INTO crew_services (crew_id, service_id) VALUES (:c, :s)"), rows)
    # A plain DROP COLUMN (SQLite >= 3.35, PostgreSQL): a batch copy would rebuild the SpatiaLite table.
    op.drop_column("crews", "specialty")


def downgrade():
    op.add_column("crews", sa.Column("specialty", sa.String(length=200), nullable=False, server_default=""))
    bind = op.get_bind()
    skills: dict[int, list[str]] = {}
    query = "SELECT cs.crew_id, s.code FROM crew_services cs JOIN services s ON s.id = cs.service_id"
    for crew_id, code in bind.execute(sa.text(query + " ORDER BY s.code")):
        skills.setdefault(crew_id, []).append(code)
    for crew_id, codes in skills.items():
        bind.execute(
            sa.text("UPDATE crews SET specialty = :v WHERE id = :c"), {"v": ",".join(codes)[:200], "c": crew_id}
        )
    op.drop_index(op.f("ix_crew_services_service_id"), table_name="crew_services")
    op.drop_table("crew_services")
