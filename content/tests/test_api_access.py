"""Content's API: what needs a signed-in user answers 401 without credentials; public reads answer visitors."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

SIGNED_IN_ONLY = [
    ("post", "/api/v1/content/posts/"),
    ("patch", "/api/v1/content/posts/1/"),
    ("delete", "/api/v1/content/posts/1/"),
    ("post", "/api/v1/content/posts/1/comments/"),
    ("delete", "/api/v1/content/comments/1/"),
    ("put", "/api/v1/content/posts/1/like/"),
    ("delete", "/api/v1/content/comments/1/like/"),
    ("post", "/api/v1/content/posts/1/report/"),
    ("get", "/api/v1/content/progress/"),
    ("get", "/api/v1/content/progress/l1"),
    ("put", "/api/v1/content/progress/l1"),
    ("get", "/api/v1/content/quizzes/basics/attempts/"),
    ("post", "/api/v1/content/quizzes/basics/attempts/"),
]


@pytest.mark.parametrize(("method", "path"), SIGNED_IN_ONLY)
def test_signed_in_operations_answer_401_without_credentials(method, path):
    response = getattr(APIClient(), method)(path, {}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_public_lists_answer_visitors_with_a_page():
    client = APIClient()
    for path in ("/api/v1/content/posts/", "/api/v1/content/conversations/", "/api/v1/content/search/?q=x"):
        body = client.get(path).json()
        assert set(body) == {"count", "next", "previous", "results"}, path
