from accounts.models.api_keys import ApiKey
from accounts.models.audit import LoginEvent
from accounts.models.organizations import Invitation, Membership, Organization, Role
from accounts.models.sessions import AuthSession
from accounts.models.users import Profile, User

__all__ = [
    "ApiKey",
    "AuthSession",
    "Invitation",
    "LoginEvent",
    "Membership",
    "Organization",
    "Profile",
    "Role",
    "User",
]
