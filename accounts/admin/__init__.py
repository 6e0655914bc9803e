# Importing each admin module registers its models with the admin site.
from accounts.admin import security  # noqa: F401
