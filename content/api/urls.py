from django.urls import path, re_path

from content.api import community, progress, quizzes, search, tutor

app_name = "content_api"

urlpatterns = [
    path("posts/", community.PostListApi.as_view(), name="posts"),
    path("posts/<int:pk>/", community.PostDetailApi.as_view(), name="post"),
    path("posts/<int:pk>/comments/", community.CommentCreateApi.as_view(), name="post_comments"),
    path("comments/<int:pk>/", community.CommentDetailApi.as_view(), name="comment"),
    re_path(r"^(?P<kind>posts|comments)/(?P<pk>[0-9]+)/like/$", community.LikeApi.as_view(), name="like"),
    re_path(r"^(?P<kind>posts|comments)/(?P<pk>[0-9]+)/report/$", community.ReportApi.as_view(), name="report"),
    path("conversations/", tutor.ConversationListApi.as_view(), name="conversations"),
    path("conversations/<uuid:pk>/", tutor.ConversationDetailApi.as_view(), name="conversation"),
    path("conversations/<uuid:pk>/messages/", tutor.ConversationAskApi.as_view(), name="conversation_messages"),
    path("search/", search.SearchApi.as_view(), name="search"),
    path("progress/", progress.ProgressListApi.as_view(), name="progress_list"),
    path("progress/<slug:item>", progress.ProgressDetailApi.as_view(), name="progress"),
    path("progress/<slug:item>/", progress.ProgressDetailSlashApi.as_view()),
    path("quizzes/<slug:slug>/", quizzes.QuizDetailApi.as_view(), name="quiz"),
    path("quizzes/<slug:slug>/attempts/", quizzes.QuizAttemptListCreateApi.as_view(), name="quiz_attempts"),
]
