from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("pool", "0018_perf"),
    ]

    operations = [
        migrations.AddField(
            model_name="userpool",
            name="allow_self_deletion",
            field=models.BooleanField(default=True),
        ),
    ]
