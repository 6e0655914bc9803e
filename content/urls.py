from django.urls import path

from content import views

app_name = "content"

urlpatterns = [
    path("", views.index, name="index"),
    path("articles/<slug:slug>/", views.article_detail, name="article_detail"),
    path("quizzes/<slug:slug>/", views.quiz_detail, name="quiz_detail"),
]
