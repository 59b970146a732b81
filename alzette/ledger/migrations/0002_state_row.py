from django.db import migrations


def create_state(apps, schema_editor):
    state = apps.get_model("ledger", "LedgerState")
    state.objects.using(schema_editor.connection.alias).get_or_create(pk=1, defaults={"size": 0})


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(create_state, migrations.RunPython.noop)]
