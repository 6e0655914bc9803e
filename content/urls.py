from django.urls import path

from content import views

app_name = "content"

urlpatterns = [
    path("", views.index, name="index"),
    path("progress/", views.progress_page, name="progress"),
    path("search/", views.search, name="search"),
    path("tutor/", views.tutor, name="tutor"),
    path("tutor/<uuid:pk>/", views.tutor_conversation, name="tutor_conversation"),
    path("tutor/<uuid:pk>/rename/", views.tutor_rename, name="tutor_rename"),
    path("tutor/<uuid:pk>/delete/", views.tutor_delete, name="tutor_delete"),
    path("courses/<slug:slug>/", views.course_detail, name="course_detail"),
    path("lessons/<slug:slug>/", views.lesson_detail, name="lesson_detail"),
    path("articles/<slug:slug>/", views.article_detail, name="article_detail"),
    path("quizzes/<slug:slug>/", views.quiz_detail, name="quiz_detail"),
    path("quizzes/<slug:slug>/attempts/", views.quiz_attempt_create, name="quiz_attempt_create"),
    path("quizzes/<slug:slug>/attempts/<int:attempt_id>/", views.quiz_attempt_detail, name="quiz_attempt_detail"),
]
