from django.urls import include, path

from bench.views import ReferenceApi

urlpatterns = [
    path("bench/reference/", ReferenceApi.as_view()),
    path("", include("config.urls")),
]
