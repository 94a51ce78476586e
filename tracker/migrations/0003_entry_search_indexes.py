"""Indexes that keep the entry admin fast at a million rows.

The B-tree indexes serve the admin's language and "date estimated" filters and are
part of the model state. The trigram indexes serve the admin's search on PostgreSQL
only: Django's ``icontains`` compiles to ``UPPER(col::text) LIKE UPPER(%s)``, which a
GIN index on ``UPPER(col) gin_trgm_ops`` serves (a trigram index on the bare column
would not). They are built ``CONCURRENTLY`` (so the migration does not block polls
writing entries meanwhile, hence ``atomic = False``) and live outside the model state:
SQLite has no trigram indexes, and on SQLite these operations do nothing.
"""

from django.db import migrations, models

TRIGRAM_INDEXES = {
    "entry_title_upper_trgm": "title",
    "entry_link_upper_trgm": "link",
}


class PostgreSQLOnly(migrations.RunSQL):
    """RunSQL that runs on PostgreSQL and does nothing elsewhere (the embedded SQLite set-up)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def trigram_index(name, column):
    # An index of this name can only be left over from a failed attempt at this
    # migration (an INVALID one, which IF NOT EXISTS would keep): drop it first.
    return PostgreSQLOnly(
        sql=[
            f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"',
            f'CREATE INDEX CONCURRENTLY "{name}" ON "tracker_entry" USING gin (UPPER("{column}") gin_trgm_ops)',
        ],
        reverse_sql=[f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"'],
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("tracker", "0002_heartbeat"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(fields=["language", "-published_at"], name="entry_language_published_idx"),
        ),
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(
                condition=models.Q(("date_estimated", True)),
                fields=["-published_at"],
                name="entry_estimated_published_idx",
            ),
        ),
        # Not dropped on the way back: other database objects may use it, and it costs nothing.
        PostgreSQLOnly(sql="CREATE EXTENSION IF NOT EXISTS pg_trgm", reverse_sql=migrations.RunSQL.noop),
        *(trigram_index(name, column) for name, column in TRIGRAM_INDEXES.items()),
    ]
