from django.urls import path
from django.views.generic import TemplateView

app_name = "content"

# Placeholder until the content pages exist.
urlpatterns = [path("", TemplateView.as_view(template_name="home.html"), name="index")]
