"""Content's domain errors, rendered in the common error shape by the API's handler (pages show their message)."""

from rest_framework import status
from rest_framework.exceptions import APIException


class ItemLocked(APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "locked"
    default_detail = "This item is locked for you: buy it or subscribe to open it."


class InvalidAnswers(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_answers"
    default_detail = "Answer with the index of one of the question's answers."


class ChatQuotaExceeded(APIException):
    status_code = status.HTTP_402_PAYMENT_REQUIRED
    default_code = "quota_exceeded"
    default_detail = "You have used your AI chats for today."


class ChatNotEntitled(APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "not_entitled"
    default_detail = "Your organization's plan does not include the AI tutor."


class TutorUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "ai_unavailable"
    default_detail = "The tutor cannot answer right now. Your question is kept; send it again later."


class PostingRefused(APIException):
    """Suspended, rate-limited, a locked thread, or not the author: the message says which."""

    status_code = status.HTTP_403_FORBIDDEN
    default_code = "posting_refused"
    default_detail = "You cannot post here."


class PostingRateLimited(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "posting_rate_limited"
    default_detail = "You are posting too fast."
