import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    # Separate from 0007: PostgreSQL refuses to alter a table with the deferred foreign-key
    # checks of the rows 0007 updated still pending in the same transaction.
    dependencies = [("scheduling", "0007_proposal_measure_basis")]

    operations = [
        migrations.AlterField(
            model_name="proposal",
            name="application",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="proposals",
                to="applications.application",
                verbose_name="application",
            ),
        ),
        migrations.AlterField(
            model_name="proposal",
            name="basis_finish",
            field=models.DateField(verbose_name="computed from the forecast finish"),
        ),
        migrations.AddConstraint(
            model_name="proposal",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "proposed")),
                fields=("application", "measure"),
                name="one_open_proposal_per_measure",
            ),
        ),
    ]
