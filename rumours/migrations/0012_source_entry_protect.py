# An entry a rumour cites can no longer be deleted (it was unlinked before): entry
# retention in tracker relies on it. No schema change: on_delete lives in Django.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("rumours", "0011_subscription_validators"),
        ("tracker", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="source",
            name="entry",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="rumour_sources",
                to="tracker.entry",
            ),
        ),
    ]
