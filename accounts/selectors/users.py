"""Reads about people."""

from accounts.models import Profile, User


def profile_for(*, user: User) -> Profile:
    """The user's profile; an unsaved one with the defaults if they have none yet (reading writes nothing)."""
    return Profile.objects.filter(user=user).first() or Profile(user=user)
