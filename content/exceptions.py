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
