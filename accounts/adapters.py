from allauth.account.adapter import DefaultAccountAdapter

from accounts.services.users import user_create_defaults


class AccountAdapter(DefaultAccountAdapter):
    """allauth's hooks into our services: a new user gets their profile and personal org."""

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            user_create_defaults(user=user)
        return user
