"""On PostgreSQL, the value and type indexes also carry ``entity_id``.

A query joins the candidates of each index on ``entity_id``. With the column in
the index itself (INCLUDE), PostgreSQL reads an index-only scan and hashes it,
instead of probing the table once per geo-candidate: the planner cannot
estimate how many rows a box overlap (``&&``) keeps, and guesses few. The
indexes keep their names, so Django's migration state still describes them.
"""

from django.db import migrations

INDEXES = {
    "ngsild_value_number": ("ngsild_attributeindex", "attribute, number"),
    "ngsild_value_text": ("ngsild_attributeindex", "attribute, text"),
    "ngsild_type_lookup": ("ngsild_entitytype", "tenant, type_iri"),
}


def _rebuild(schema_editor, include: bool) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, columns) in INDEXES.items():
        extra = " INCLUDE (entity_id)" if include else ""
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
        schema_editor.execute(f'CREATE INDEX "{name}" ON "{table}" ({columns}){extra}')


def cover(apps, schema_editor):
    _rebuild(schema_editor, include=True)


def uncover(apps, schema_editor):
    _rebuild(schema_editor, include=False)


class Migration(migrations.Migration):
    dependencies = [("ngsild", "0003_geo_box_index")]

    operations = [migrations.RunPython(cover, uncover, elidable=False)]
