from django.urls import path

from content.api import quizzes

app_name = "content_api"

urlpatterns = [
    path("quizzes/<slug:slug>/", quizzes.QuizDetailApi.as_view(), name="quiz"),
    path("quizzes/<slug:slug>/attempts/", quizzes.QuizAttemptListCreateApi.as_view(), name="quiz_attempts"),
]
