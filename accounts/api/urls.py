from django.urls import path

app_name = "accounts_api"

urlpatterns: list = []
