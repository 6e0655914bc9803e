"""Content's reactions to account events: a visitor's tutor conversations join the account;
what a person learned and wrote goes into their GDPR export.

accounts must not import content, so content listens (as billing does for anonymous purchases).
Django keeps the session's data across the login, so the visitor's chat id is still there.
"""

from allauth.account.signals import user_signed_up
from django.contrib.auth.signals import user_logged_in

from accounts.services.gdpr import gdpr_export_section_register
from content.selectors import CONTENT_EXPORT_COVERS, content_data_for_person
from content.services import CHAT_SESSION_FIELD, chat_owner_id, conversations_attach_anonymous


def conversations_attach_on_account(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    owner = chat_owner_id(request.session)
    if owner:
        conversations_attach_anonymous(anonymous_owner=owner, user=user)
        del request.session[CHAT_SESSION_FIELD]


def connect() -> None:
    user_signed_up.connect(conversations_attach_on_account, dispatch_uid="content:conversations_attach_on_sign_up")
    user_logged_in.connect(conversations_attach_on_account, dispatch_uid="content:conversations_attach_on_login")
    gdpr_export_section_register(
        section="content", export=lambda user: content_data_for_person(user=user), covers=CONTENT_EXPORT_COVERS
    )
