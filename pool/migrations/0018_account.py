from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("pool", "0017_i18n"),
    ]

    operations = [
        migrations.AddField(
            model_name="userpool",
            name="allow_self_deletion",
            field=models.BooleanField(default=True),
        ),
    ]
