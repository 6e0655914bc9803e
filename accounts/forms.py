"""Forms allauth mixes into its own pages."""

from django import forms


class SignupExtraForm(forms.Form):
    """ACCOUNT_SIGNUP_FORM_CLASS: the sign-up page also asks for the person's name, which
    names their personal organization ("Ada's workspace") and greets them."""

    name = forms.CharField(
        max_length=120,
        required=False,
        label="Your name",
        help_text="Names your personal workspace; you can change it later.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    field_order = ["name", "email", "password1", "password2"]

    def signup(self, request, user):
        """allauth's hook after the user is saved; the adapter already stored the name."""
