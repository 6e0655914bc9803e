from django.urls import path

from marketplace import views

app_name = "marketplace"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/try/", views.try_it, name="try_it"),
]
