"""allauth's social-account admin pages are not used: the e-ID providers come from the
environment (careplan/settings.py), and a binding's uid is a keyed hash nobody needs to
read or edit. Removing them keeps the admin to what the care team works with."""

from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.contrib import admin

for model in (SocialApp, SocialToken, SocialAccount):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
