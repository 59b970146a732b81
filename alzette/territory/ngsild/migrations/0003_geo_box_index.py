"""On PostgreSQL, a GiST index on the GeoProperties' boxes (queries.py, _OVERLAP).

B-tree indexes on (attribute, min_x, max_x) bound one side of each range only;
a box overlap (&&) on a GiST index narrows on both axes at once.
"""

from django.db import migrations

CREATE = (
    'CREATE INDEX IF NOT EXISTS "ngsild_geo_box" ON "ngsild_geoindex" '
    "USING gist (box(point(min_x, min_y), point(max_x, max_y)))"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('DROP INDEX IF EXISTS "ngsild_geo_box"')


class Migration(migrations.Migration):
    dependencies = [("ngsild", "0002_partition_history")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
