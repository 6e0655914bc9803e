"""Domain errors of accounts. They are DRF exceptions so the API renders them in the
common error shape; pages catch them and show `detail` as a message."""

from rest_framework import status
from rest_framework.exceptions import APIException


class OrganizationAdminRequired(APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "organization_admin_required"
    default_detail = "Only admins of this organization can do that."


class LastAdminRemoval(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "last_admin"
    default_detail = "An organization needs at least one admin; make someone else admin first."


class PersonalOrganizationLocked(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "personal_organization"
    default_detail = "A personal organization has exactly one member; create a company organization to invite people."


class AlreadyMember(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "already_member"
    default_detail = "This person is already a member of the organization."


class InvitationInvalid(APIException):
    status_code = status.HTTP_410_GONE
    default_code = "invitation_invalid"
    default_detail = "This invitation link is invalid, expired, revoked or already used."


class InvitationEmailMismatch(APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "invitation_email_mismatch"
    default_detail = "This invitation was sent to another email address. Log in with that address to accept it."


class OrganizationNameInvalid(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "organization_name_invalid"
    default_detail = "Give the organization a name."


class AccountDeletionFailed(APIException):
    """A part of the deletion another app does (e.g. cancelling subscriptions in Stripe) could not be done now;
    nothing was deleted."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "account_deletion_failed"
    default_detail = "Your account could not be deleted right now; nothing was changed. Please try again later."
