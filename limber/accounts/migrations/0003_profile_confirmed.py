from django.db import migrations, models


def mark_unconfirmed_sign_ups(apps, schema_editor):
    # Before this field, an unconfirmed sign-up was an inactive account that had never logged
    # in (opening the mailed link logs in); any other inactive account was closed on purpose.
    Profile = apps.get_model("accounts", "Profile")
    Profile.objects.filter(user__is_active=False, user__last_login=None).update(confirmed=False)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_token_expiry")]

    operations = [
        migrations.AddField(
            model_name="profile", name="confirmed", field=models.BooleanField(default=True)
        ),
        migrations.RunPython(mark_unconfirmed_sign_ups, migrations.RunPython.noop),
    ]
