"""The full-power reference of every lamp-night counts only the dark hours its reports
cover (docs/lighting-energy.md): rows written before counted the whole night, so the
hours a lamp did not report showed up as saved. Each row is rebased on the rated power
and covered hours it stores, which needs no reading (readings older than
READINGS_DAYS are gone); ``alzette lighting energy`` then recomputes the current and
previous month from their readings."""

from django.db import migrations
from django.db.models import F


def rebase(apps, schema_editor):
    alias = schema_editor.connection.alias
    nights = apps.get_model("lighting_energy", "LampNight").objects.using(alias)
    nights.filter(rating_w__isnull=False).update(reference_wh=F("rating_w") * F("covered_hours"))


def whole_night(apps, schema_editor):
    alias = schema_editor.connection.alias
    nights = apps.get_model("lighting_energy", "LampNight").objects.using(alias)
    nights.filter(rating_w__isnull=False).update(reference_wh=F("rating_w") * F("night_hours"))


class Migration(migrations.Migration):

    dependencies = [
        ("lighting_energy", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(rebase, whole_night, elidable=True),
    ]
