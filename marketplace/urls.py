from django.urls import path

from marketplace.views import catalogue, reviews, studio

app_name = "marketplace"

urlpatterns = [
    path("", catalogue.index, name="index"),
    path("library/", catalogue.library, name="library"),
    path("studio/", studio.studio_index, name="studio"),
    path("studio/new/", studio.studio_new, name="studio_new"),
    path("studio/dashboard/", studio.dashboard, name="dashboard"),
    path("studio/dashboard.csv", studio.dashboard_csv, name="dashboard_csv"),
    path("studio/<slug:slug>/", studio.studio_edit, name="studio_edit"),
    path("studio/<slug:slug>/<slug:action>/", studio.studio_action, name="studio_action"),
    path("<slug:slug>/", catalogue.detail, name="detail"),
    path("<slug:slug>/try/", catalogue.try_it, name="try_it"),
    path("<slug:slug>/reviews/", reviews.review_write, name="review_write"),
    *[
        path(f"<slug:slug>/reviews/<int:review_id>/{change}/", reviews.review_change, {"change": change},
             name=f"review_{change}")
        for change in reviews.REVIEW_CHANGES
    ],
]
