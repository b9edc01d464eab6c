"""Keys issued before tokens were named keep working, stored as digests from now on.

Each plain key of REST framework's token table becomes a write-scoped token named
"issued before named tokens", valid for 90 days from this migration; the plain keys are
then removed from that table so that no readable key is left in the database.
"""

import hashlib
from datetime import timedelta

from django.db import migrations
from django.utils import timezone

LEGACY_TABLE = "authtoken_token"


def digest_plain_keys(apps, schema_editor):
    connection = schema_editor.connection
    if LEGACY_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("accounts", "ApiToken")
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id FROM {LEGACY_TABLE}")  # noqa: S608
        rows = cursor.fetchall()
        for key, user_id in rows:
            ApiToken.objects.create(
                user_id=user_id,
                name="issued before named tokens",
                prefix=key[:8],
                digest=hashlib.sha256(key.encode()).hexdigest(),
                scope="write",
                created_at=now,
                expires_at=now + timedelta(days=90),
            )
        cursor.execute(f"DELETE FROM {LEGACY_TABLE}")  # noqa: S608


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_api_token")]

    operations = [migrations.RunPython(digest_plain_keys, migrations.RunPython.noop)]
