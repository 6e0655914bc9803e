from django.urls import include, path

from bench.views import FloorApi, ReferenceApi

urlpatterns = [
    path("bench/reference/", ReferenceApi.as_view()),
    path("bench/floor/", FloorApi.as_view()),
    path("", include("config.urls")),
]
