from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("pool", "0016_scale")]

    operations = [
        migrations.AddField(
            model_name="userpool",
            name="message_templates",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
