from django.urls import include, path

from bench.views import FloorApi, JwtReferenceApi, ReferenceApi

urlpatterns = [
    path("bench/floor/", FloorApi.as_view()),
    path("bench/reference/", ReferenceApi.as_view()),
    path("bench/reference-jwt/", JwtReferenceApi.as_view()),
    path("", include("config.urls")),
]
