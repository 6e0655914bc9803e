from dataclasses import dataclass
from urllib.parse import urlparse

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

from accounts.reauthentication import browser_authenticated_recently
from accounts.services.users import user_signup
from common.events import event_source


@dataclass(frozen=True)
class PublicSite:
    name: str
    domain: str


class AccountAdapter(DefaultAccountAdapter):
    """allauth's hooks into our services: a new user gets their profile and personal org."""

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            user_signup(
                user=user,
                display_name=(form.cleaned_data.get("name") or "") if form else "",
                source=event_source(request) if request is not None else None,
            )
        return user

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """allauth asks again only when neither a reauthentication nor the sign-in itself
        is recent (accounts.reauthentication)."""
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        return self.request is None or not browser_authenticated_recently(self.request)

    def send_mail(self, template_prefix, email, context):
        # allauth's emails greet with django.contrib.sites' row, which nothing keeps up to
        # date ("example.com"); name the product and its public address instead.
        site = PublicSite(name="Plateau", domain=urlparse(settings.SITE_URL).netloc)
        super().send_mail(template_prefix, email, {"current_site": site, **context})
