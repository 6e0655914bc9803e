from django.urls import path

from content.api import progress, quizzes, search, tutor

app_name = "content_api"

urlpatterns = [
    path("conversations/", tutor.ConversationListApi.as_view(), name="conversations"),
    path("conversations/<uuid:pk>/", tutor.ConversationDetailApi.as_view(), name="conversation"),
    path("conversations/<uuid:pk>/messages/", tutor.ConversationAskApi.as_view(), name="conversation_messages"),
    path("search/", search.SearchApi.as_view(), name="search"),
    path("progress/", progress.ProgressListApi.as_view(), name="progress_list"),
    path("progress/<slug:item>", progress.ProgressDetailApi.as_view(), name="progress"),
    path("progress/<slug:item>/", progress.ProgressDetailApi.as_view()),
    path("quizzes/<slug:slug>/", quizzes.QuizDetailApi.as_view(), name="quiz"),
    path("quizzes/<slug:slug>/attempts/", quizzes.QuizAttemptListCreateApi.as_view(), name="quiz_attempts"),
]
