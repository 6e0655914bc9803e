from django.urls import path

from marketplace.views import catalogue, studio

app_name = "marketplace"

urlpatterns = [
    path("", catalogue.index, name="index"),
    path("studio/", studio.studio_index, name="studio"),
    path("studio/new/", studio.studio_new, name="studio_new"),
    path("studio/<slug:slug>/", studio.studio_edit, name="studio_edit"),
    path("studio/<slug:slug>/<slug:action>/", studio.studio_action, name="studio_action"),
    path("<slug:slug>/", catalogue.detail, name="detail"),
    path("<slug:slug>/try/", catalogue.try_it, name="try_it"),
]
