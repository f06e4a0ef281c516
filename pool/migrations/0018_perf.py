from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("pool", "0017_i18n"),
    ]

    operations = [
        migrations.AddField(
            model_name="userpool",
            name="config_version",
            field=models.BigIntegerField(default=0, editable=False),
        ),
    ]
