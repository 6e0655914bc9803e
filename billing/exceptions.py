"""Billing's domain errors, rendered in the common error shape by the API's handler."""

from rest_framework import status
from rest_framework.exceptions import APIException


class QuotaExceeded(APIException):
    status_code = status.HTTP_402_PAYMENT_REQUIRED
    default_code = "quota_exceeded"
    default_detail = "The quota for this feature is used up for the current period."


class NotEntitled(APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "not_entitled"
    default_detail = "The current plan does not include this feature."


class FeatureNotMetered(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "feature_not_metered"
    default_detail = "This feature is on or off; there is no usage to track."


class MemberRequired(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "member_required"
    default_detail = "This feature is counted per member: name the member (user) it is used by."


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_reused"
    default_detail = (
        "This idempotency key was already used for a different request (feature, quantity or member): "
        "use a new key for a new use."
    )
