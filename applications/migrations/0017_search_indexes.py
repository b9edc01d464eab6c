"""Indexes for the workspace's and the API's search on PostgreSQL.

A search matches part of an application's number, of its customer's name or of the
customer's credit code (``applications.selectors.search_applications``). A leading
wildcard defeats B-tree indexes, so on PostgreSQL:

- three characters or more are found through trigram GIN indexes (``pg_trgm``) on the
  upper-cased columns, the expression Django's ``icontains`` compares; pg_trgm takes
  Chinese characters into its trigrams when the database's LC_CTYPE is a UTF-8 locale
  (C.UTF-8, en_US.UTF-8, zh_CN.UTF-8), not under plain C/POSIX;
- a customer's name of one or two characters ("宏达") has no trigram to look up: a GIN
  index over the name's characters (``string_to_array(upper(name), NULL)``) finds the
  names holding each of them, and ``LIKE`` keeps those that hold them side by side, whatever
  the locale.

SQLite has neither; it scans, which is what a laptop's few hundred applications need.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS customer_name_trgm ON applications_customer"
    " USING gin (upper(name::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customer_credit_code_trgm ON applications_customer"
    " USING gin (upper(credit_code::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS application_number_trgm ON applications_application"
    " USING gin (upper(number::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customer_name_characters ON applications_customer"
    " USING gin (string_to_array(upper(name::text), NULL))",
]

BACKWARD = [
    "DROP INDEX IF EXISTS customer_name_characters",
    "DROP INDEX IF EXISTS application_number_trgm",
    "DROP INDEX IF EXISTS customer_credit_code_trgm",
    "DROP INDEX IF EXISTS customer_name_trgm",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("applications", "0016_reassignment_override_time_limit_clock")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
