from django.urls import path

from content import views

app_name = "content"

urlpatterns = [
    path("", views.index, name="index"),
    path("progress/", views.progress_page, name="progress"),
    path("search/", views.search, name="search"),
    path("community/", views.community, name="community"),
    path("community/<int:pk>/", views.post_detail, name="post_detail"),
    path("community/<int:pk>/edit/", views.post_edit_view, name="post_edit"),
    path("community/<int:pk>/delete/", views.post_delete_view, name="post_delete"),
    path("community/<str:kind>/<int:pk>/like/", views.like_toggle, name="like"),
    path("community/<str:kind>/<int:pk>/report/", views.report_view, name="report"),
    path("tutor/", views.tutor, name="tutor"),
    path("tutor/stream/", views.tutor_stream, name="tutor_stream_new"),
    path("tutor/<uuid:pk>/", views.tutor_conversation, name="tutor_conversation"),
    path("tutor/<uuid:pk>/stream/", views.tutor_stream, name="tutor_stream"),
    path("tutor/<uuid:pk>/rename/", views.tutor_rename, name="tutor_rename"),
    path("tutor/<uuid:pk>/delete/", views.tutor_delete, name="tutor_delete"),
    path("courses/<slug:slug>/", views.course_detail, name="course_detail"),
    path("lessons/<slug:slug>/", views.lesson_detail, name="lesson_detail"),
    path("articles/<slug:slug>/", views.article_detail, name="article_detail"),
    path("quizzes/<slug:slug>/", views.quiz_detail, name="quiz_detail"),
    path("quizzes/<slug:slug>/attempts/", views.quiz_attempt_create, name="quiz_attempt_create"),
    path("quizzes/<slug:slug>/attempts/<int:attempt_id>/", views.quiz_attempt_detail, name="quiz_attempt_detail"),
]
