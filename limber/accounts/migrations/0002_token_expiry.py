from datetime import timedelta

from django.db import migrations, models


def expire_old_tokens_in_90_days(apps, schema_editor):
    # Tokens made before expiry existed get the default lifetime, counted from their creation.
    ApiToken = apps.get_model("accounts", "ApiToken")
    for token in ApiToken.objects.all().only("pk", "created"):
        ApiToken.objects.filter(pk=token.pk).update(expires=token.created + timedelta(days=90))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="apitoken", name="expires", field=models.DateTimeField(null=True)
        ),
        migrations.RunPython(expire_old_tokens_in_90_days, migrations.RunPython.noop),
        migrations.AlterField(model_name="apitoken", name="expires", field=models.DateTimeField()),
        migrations.AlterModelOptions(name="apitoken", options={"ordering": ["-created"]}),
    ]
