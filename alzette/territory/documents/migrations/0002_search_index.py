"""The full-text index ``documents_search``, one form per database vendor.

SQLite: an FTS5 virtual table of analysed text (stems computed in Python,
alzette/territory/documents/analysis.py), folded again by the tokenizer.

PostgreSQL: text search configurations that fold accents (``unaccent``) before
each language's Snowball stemmer, and a table of ``tsvector`` with a GIN index.
``CREATE EXTENSION unaccent`` needs a role allowed to create it (a superuser,
or the database owner since unaccent is a trusted extension, PostgreSQL 13+).
"""

from django.db import migrations

SQLITE = """
CREATE VIRTUAL TABLE documents_search USING fts5(
    document_id UNINDEXED,
    language UNINDEXED,
    title,
    description,
    body,
    tokenize = 'unicode61 remove_diacritics 2'
);
"""
SQLITE_REVERSE = "DROP TABLE IF EXISTS documents_search;"

# language -> (configuration, built-in configuration copied, stemming dictionary)
_CONFIGURATIONS = {
    "fr": ("alzette_french", "french", "french_stem"),
    "de": ("alzette_german", "german", "german_stem"),
    "en": ("alzette_english", "english", "english_stem"),
    "pt": ("alzette_portuguese", "portuguese", "portuguese_stem"),
    "lb": ("alzette_simple", "simple", "simple"),
}


def _configuration(name: str, source: str, dictionary: str) -> str:
    # CREATE TEXT SEARCH CONFIGURATION has no IF NOT EXISTS.
    return f"""
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '{name}') THEN
        CREATE TEXT SEARCH CONFIGURATION {name} (COPY = {source});
        ALTER TEXT SEARCH CONFIGURATION {name}
            ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {dictionary};
    END IF;
END $$;
"""


POSTGRESQL = (
    "CREATE EXTENSION IF NOT EXISTS unaccent;"
    + "".join(_configuration(*names) for names in _CONFIGURATIONS.values())
    + """
CREATE TABLE documents_search (
    -- No foreign key: services.delete removes the entry in the same transaction, and
    -- Django's flush (which truncates only managed tables) must be able to empty
    -- documents_document.
    document_id uuid PRIMARY KEY,
    language varchar(2) NOT NULL,
    vector tsvector NOT NULL
);
CREATE INDEX documents_search_vector ON documents_search USING gin (vector);
CREATE INDEX documents_search_language ON documents_search (language);
"""
)
POSTGRESQL_REVERSE = "DROP TABLE IF EXISTS documents_search;" + "".join(
    f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {name};" for name, _s, _d in _CONFIGURATIONS.values()
)


class VendorRunSQL(migrations.RunSQL):
    """RunSQL that runs only on databases of one vendor."""

    def __init__(self, vendor, sql, reverse_sql):
        super().__init__(sql, reverse_sql, elidable=False)
        self.vendor = vendor

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"Raw SQL operation on {self.vendor}"


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]

    operations = [
        VendorRunSQL("sqlite", SQLITE, SQLITE_REVERSE),
        VendorRunSQL("postgresql", POSTGRESQL, POSTGRESQL_REVERSE),
    ]
