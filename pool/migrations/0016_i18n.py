from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("pool", "0015_poolchange")]

    operations = [
        migrations.AddField(
            model_name="userpool",
            name="message_templates",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
