# Importing each admin module registers its models with the admin site.
from accounts.admin import security, users  # noqa: F401
