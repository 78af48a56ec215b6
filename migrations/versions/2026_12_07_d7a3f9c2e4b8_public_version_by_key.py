"""PostgreSQL: the public data version is bumped once per transaction (until read), its slot found by key.

Revision ID: d7a3f9c2e4b8
Revises: c7d3f9a2e4b6
Create Date: 2026-12-07

The statement trigger of 9a7c3e5b1d20 bumped a counter row for every write statement on tickets,
ticket_events, services and post_media, choosing its slot with `ORDER BY (slot - pid % 32 ...) LIMIT 1
FOR UPDATE SKIP LOCKED`: an expression no index serves, so each statement read and sorted the whole
table, dead row versions included. Every bump is a new row version, and on a busy (or shared) server
they are not pruned before autovacuum comes: 3,000 one-bump transactions left 17 pages here, an intake
page writes about 15 bumps, and the table was seen at 42 MB with a 10 ms scan per read.

Now the first write of a transaction tries the slots by primary key (its connection's own first, then
the next ones, skipping those another transaction holds), and marks the transaction in a local setting;
its later writes add nothing: other readers cannot see the version before the commit, and one change
is enough for them to see a new one after it. A reader of the version in the same transaction clears
the mark (services/public_version.py), so a write after that read moves the version again, as before.
A savepoint's rollback rolls the mark back with its bump. The table is then rewritten (TRUNCATE and
the counters copied back): one the old trigger bloated stays bloated until rewritten, whatever vacuum does. SQLite is unchanged (a row trigger on slot 0,
one writer at a time).
"""

from alembic import op

revision = "d7a3f9c2e4b8"
down_revision = "c7d3f9a2e4b6"
branch_labels = None
depends_on = None

SLOTS = 32
MARK = "civictracker.public_version_bumped"  # services/public_version.py clears it

BY_KEY = f"""
CREATE OR REPLACE FUNCTION ct_bump_public_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    first integer := pg_backend_pid() % {SLOTS};
    taken integer;
BEGIN
    IF current_setting('{MARK}', true) = 'on' THEN  -- bumped already, and not read since
        RETURN NULL;
    END IF;
    -- A slot no other transaction holds, tried by key: a writer never waits on the version while
    -- fewer than {SLOTS} write at once, so it cannot join a deadlock here.
    FOR i IN 0..{SLOTS - 1} LOOP
        UPDATE public_data_version SET version = version + 1
        WHERE slot = (
            SELECT slot FROM public_data_version WHERE slot = (first + i) % {SLOTS} FOR UPDATE SKIP LOCKED
        )
        RETURNING slot INTO taken;
        EXIT WHEN taken IS NOT NULL;
    END LOOP;
    IF taken IS NULL THEN  -- every slot taken: wait for this connection's own
        UPDATE public_data_version SET version = version + 1 WHERE slot = first;
    END IF;
    PERFORM set_config('{MARK}', 'on', true);
    RETURN NULL;
END $$
"""

# 9a7c3e5b1d20's function, restored by the downgrade.
BY_ORDER = f"""
CREATE OR REPLACE FUNCTION ct_bump_public_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE public_data_version SET version = version + 1 WHERE slot = (
        SELECT slot FROM public_data_version
        ORDER BY (slot - pg_backend_pid() % {SLOTS} + {SLOTS}) % {SLOTS}
        LIMIT 1 FOR UPDATE SKIP LOCKED
    );
    IF NOT FOUND THEN
        UPDATE public_data_version SET version = version + 1 WHERE slot = pg_backend_pid() % {SLOTS};
    END IF;
    RETURN NULL;
END $$
"""


# A table the old trigger bloated keeps its pages until it is rewritten (every read scans them all: 42 MB,
# 12-15 ms per read seen after a bulk load of 1M tickets, VACUUM included). TRUNCATE gives it a new file;
# the counters are copied back, so no version goes back.
REWRITE = """
CREATE TEMP TABLE ct_public_data_version_copy AS SELECT slot, version FROM public_data_version;
TRUNCATE public_data_version;
INSERT INTO public_data_version (slot, version) SELECT slot, version FROM ct_public_data_version_copy;
DROP TABLE ct_public_data_version_copy;
"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(BY_KEY)
    op.execute(REWRITE)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(BY_ORDER)
