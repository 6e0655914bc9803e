from django.urls import path

from marketplace.api import catalogue, seller

app_name = "marketplace_api"

urlpatterns = [
    path("templates/", catalogue.TemplateListApi.as_view(), name="templates"),
    path("templates/<slug:slug>/", catalogue.TemplateDetailApi.as_view(), name="template"),
    path("templates/<slug:slug>/render/", catalogue.TemplateRenderApi.as_view(), name="render"),
    path("templates/<slug:slug>/reviews/", catalogue.ReviewListCreateApi.as_view(), name="reviews"),
    path("reviews/<int:review_id>/", catalogue.ReviewDetailApi.as_view(), name="review"),
    path("reviews/<int:review_id>/reply/", catalogue.ReviewReplyApi.as_view(), name="review_reply"),
    path("library/", catalogue.LibraryApi.as_view(), name="library"),
    path("seller/<int:seller_id>/templates/", seller.SellerTemplateListApi.as_view(), name="seller_templates"),
    path(
        "seller/<int:seller_id>/templates/<slug:slug>/",
        seller.SellerTemplateDetailApi.as_view(),
        name="seller_template",
    ),
    *(
        path(
            f"seller/<int:seller_id>/templates/<slug:slug>/{action}/",
            seller.SellerTemplateActionApi.as_view(action_name=action),
            name=f"seller_template_{action}",
        )
        for action in seller.ACTIONS
    ),
    path("seller/<int:seller_id>/stats/", seller.SellerStatsApi.as_view(), name="seller_stats"),
    path("seller/<int:seller_id>/ledger/", seller.SellerLedgerApi.as_view(), name="seller_ledger"),
]
