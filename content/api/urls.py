from django.urls import path

from content.api import progress, quizzes, search

app_name = "content_api"

urlpatterns = [
    path("search/", search.SearchApi.as_view(), name="search"),
    path("progress/", progress.ProgressListApi.as_view(), name="progress_list"),
    path("progress/<slug:item>", progress.ProgressDetailApi.as_view(), name="progress"),
    path("progress/<slug:item>/", progress.ProgressDetailApi.as_view()),
    path("quizzes/<slug:slug>/", quizzes.QuizDetailApi.as_view(), name="quiz"),
    path("quizzes/<slug:slug>/attempts/", quizzes.QuizAttemptListCreateApi.as_view(), name="quiz_attempts"),
]
