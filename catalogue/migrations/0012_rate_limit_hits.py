from datetime import timedelta

import django.utils.timezone
from django.db import migrations, models


def count_the_last_hours_flags(apps, schema_editor):
    """Flags of the last hour were counted from the flag table; carry them over as hits."""
    Flag = apps.get_model("catalogue", "Flag")
    RateLimitHit = apps.get_model("catalogue", "RateLimitHit")
    since = django.utils.timezone.now() - timedelta(hours=1)
    recent = Flag.objects.filter(created_at__gte=since).exclude(client_hash="")
    RateLimitHit.objects.bulk_create(
        RateLimitHit(scope="flag", client_hash=client_hash, created_at=created_at)
        for client_hash, created_at in recent.values_list("client_hash", "created_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0011_collection_calibration"),
    ]

    operations = [
        migrations.RenameModel(old_name="FlagClient", new_name="RateLimitClient"),
        migrations.CreateModel(
            name="RateLimitHit",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("scope", models.CharField(max_length=40)),
                ("client_hash", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["client_hash", "scope", "created_at"], name="ratelimit_hit_window"
                    )
                ],
            },
        ),
        migrations.RunPython(count_the_last_hours_flags, migrations.RunPython.noop),
    ]
