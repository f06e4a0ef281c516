from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="AccessKey",
            fields=[
                (
                    "access_key_id",
                    models.CharField(max_length=128, primary_key=True, serialize=False),
                ),
                ("secret", models.TextField()),
                ("description", models.CharField(blank=True, default="", max_length=256)),
                ("active", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={"ordering": ["created_at"]},
        ),
    ]
