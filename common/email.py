"""Email providers beside SMTP and the console: what the provider called the message it accepted."""

from django.core.mail import EmailMessage


def provider_message_id(message: EmailMessage) -> str:
    """The id the provider (SendGrid, Postmark, through django-anymail) gave a sent message; '' for SMTP/console.

    With several recipients a provider may give each its own id: they are joined, sorted, by spaces.
    """
    status = getattr(message, "anymail_status", None)
    value = getattr(status, "message_id", None)
    if not value:
        return ""
    if isinstance(value, set | frozenset | list | tuple):
        return " ".join(sorted(str(v) for v in value if v))[:255]
    return str(value)[:255]
