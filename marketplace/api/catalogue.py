"""/api/v1/marketplace/: the catalogue (list, search, filter, detail), rendering for owners,
the library of what an organization owns, and reviews. Thin: selectors and services do the work.

Who the caller speaks for: an API key's organization; a person's organization chosen with
`?customer=<id>` (404 if not theirs), else their primary one; nobody when signed out.
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiKey
from billing.api.access import IsMemberOrApiKey
from billing.selectors import Viewer, viewer_for
from common.events import event_source
from common.pagination import DefaultPagination
from common.schema import BAD_REQUEST, FORBIDDEN, NOT_FOUND, UNAUTHENTICATED, error
from common.search import search_words
from marketplace.forms import BrowseForm
from marketplace.models import PromptTemplate, Review
from marketplace.pagination import CappedPagination, count_cap
from marketplace.selectors import (
    library_list,
    prompt_template_browse,
    prompt_template_get_for_viewer,
    prompt_template_offers,
    review_list_visible,
    review_rating_summary,
)
from marketplace.services.browsing import catalogue_browse_record
from marketplace.services.reviews import review_create, review_delete, review_reply, review_update
from marketplace.services.templates import prompt_template_try


def api_viewer(request) -> Viewer:
    if isinstance(request.auth, ApiKey):
        organization = request.auth.organization
        return Viewer(organization=organization, organizations=(organization,))
    return viewer_for(user=request.user, organization_id=request.query_params.get("customer"))


def require_caller(request) -> None:
    if not (isinstance(request.auth, ApiKey) or request.user.is_authenticated):
        raise NotAuthenticated()


CUSTOMER = OpenApiParameter(
    "customer", int, required=False, description="The organization you speak for; defaults to your primary one."
)


class SellerOutput(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()


class TemplateOutput(serializers.ModelSerializer):
    seller = SellerOutput()
    tags = serializers.ListField(source="tag_list", child=serializers.CharField())
    rating_average = serializers.DecimalField(source="rating_exact", max_digits=3, decimal_places=2)

    class Meta:
        model = PromptTemplate
        fields = [
            "slug",
            "title",
            "description",
            "category",
            "tags",
            "seller",
            "price_amount",
            "currency",
            "rating_average",
            "rating_count",
            "sales_count",
            "published_at",
        ]


class OfferOutput(serializers.Serializer):
    owned = serializers.BooleanField()
    amount = serializers.IntegerField(
        allow_null=True, help_text="What the caller would pay now (minor units); null when owned."
    )


class RatingOutput(serializers.Serializer):
    average = serializers.DecimalField(max_digits=3, decimal_places=2)
    count = serializers.IntegerField()
    distribution = serializers.DictField(child=serializers.IntegerField(), help_text='{"5": n, ..., "1": n}')


class TemplateDetailOutput(TemplateOutput):
    offer = OfferOutput()
    rating = RatingOutput()
    body = serializers.CharField(allow_null=True, help_text="The prompt; only for those it is open to.")

    class Meta(TemplateOutput.Meta):
        fields = [*TemplateOutput.Meta.fields, "status", "variables", "example_output", "offer", "rating", "body"]


class TemplateListApi(APIView):
    permission_classes = [AllowAny]
    pagination_class = CappedPagination

    @extend_schema(
        tags=["marketplace"],
        summary="Listed templates: search (`q`), filters and sorting as on /marketplace/, paginated "
        "(`count` stops at 1001, or 301 with `q`: past that, refine the filters)",
        parameters=[
            OpenApiParameter("q", str, description="Search words; typos forgiven."),
            OpenApiParameter("category", str),
            OpenApiParameter("tags", str, description="Comma-separated; all must match."),
            OpenApiParameter("price_min", str, description="Dollars."),
            OpenApiParameter("price_max", str, description="Dollars."),
            OpenApiParameter("pricing", str, enum=["free", "paid"]),
            OpenApiParameter("min_rating", int, enum=[1, 2, 3, 4]),
            OpenApiParameter("seller", str, description="The seller organization's slug."),
            OpenApiParameter("sort", str, enum=["relevance", "newest", "rating", "bestselling", "price", "-price"]),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={200: TemplateOutput(many=True), 400: BAD_REQUEST},
    )
    def get(self, request):
        form = BrowseForm(request.query_params)
        if not form.is_valid():
            raise serializers.ValidationError(form.errors)
        filters = form.filters()
        paginator = CappedPagination(cap=count_cap(searching=bool(search_words(filters.query))))
        page = paginator.paginate_queryset(prompt_template_browse(filters=filters), request, view=self)
        if paginator.page.number == 1:
            catalogue_browse_record(
                source=event_source(request),
                filters=filters,
                results=paginator.page.paginator.count,
                organization_id=request.auth.organization_id if isinstance(request.auth, ApiKey) else None,
            )
        return paginator.get_paginated_response(TemplateOutput(page, many=True).data)


def _detail(template: PromptTemplate, viewer: Viewer) -> dict:
    (offer,) = prompt_template_offers(viewer=viewer, templates=[template])
    rating = review_rating_summary(template=template)
    data = TemplateOutput(template).data
    return {
        **data,
        "status": template.status,
        "variables": template.variables,
        "example_output": template.example_output,
        "offer": {"owned": offer.owned, "amount": None if offer.owned else offer.quote.amount},
        "rating": {
            "average": str(rating.average),
            "count": rating.count,
            "distribution": {str(stars): n for stars, n, _ in rating.distribution},
        },
        "body": template.body if offer.owned else None,
    }


class TemplateDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["marketplace"],
        summary="A template: what the caller pays, the rating; the body once owned (drafts: the seller's only)",
        parameters=[CUSTOMER],
        responses={200: TemplateDetailOutput, 404: NOT_FOUND},
    )
    def get(self, request, slug: str):
        viewer = api_viewer(request)
        template = prompt_template_get_for_viewer(slug=slug, viewer=viewer)
        return Response(_detail(template, viewer))


class RenderInput(serializers.Serializer):
    values = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=2000), required=False)


class RenderOutput(serializers.Serializer):
    text = serializers.CharField()


class TemplateRenderApi(APIView):
    permission_classes = [IsMemberOrApiKey]

    @extend_schema(
        tags=["marketplace"],
        summary="Fill a template you own with your values (missing or malformed ones: 400 per variable)",
        parameters=[CUSTOMER],
        request=RenderInput,
        responses={200: RenderOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request, slug: str):
        require_caller(request)
        viewer = api_viewer(request)
        template = prompt_template_get_for_viewer(slug=slug, viewer=viewer)
        (offer,) = prompt_template_offers(viewer=viewer, templates=[template])
        if not offer.owned:
            raise PermissionDenied("Buy this template to use it.")
        data = RenderInput(data=request.data)
        data.is_valid(raise_exception=True)
        text = prompt_template_try(
            template=template,
            values=data.validated_data.get("values", {}),
            organization_id=viewer.organization.pk if viewer.organization else None,
            source=event_source(request),
        )
        return Response({"text": text})


class LibraryApi(APIView):
    permission_classes = [IsMemberOrApiKey]
    pagination_class = DefaultPagination

    @extend_schema(
        tags=["marketplace"],
        summary="What the organization owns: templates bought (paid or partly refunded), newest purchase first",
        parameters=[CUSTOMER],
        responses={200: TemplateOutput(many=True), 401: UNAUTHENTICATED, 404: NOT_FOUND},
    )
    def get(self, request):
        require_caller(request)
        viewer = api_viewer(request)
        if viewer.organization is None:
            raise Http404("No such customer.")
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(library_list(organization=viewer.organization), request, view=self)
        return paginator.get_paginated_response(TemplateOutput(page, many=True).data)


class ReviewOutput(serializers.ModelSerializer):
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = [
            "id",
            "rating",
            "text",
            "author_name",
            "seller_reply",
            "seller_replied_at",
            "created_at",
            "updated_at",
        ]

    def get_author_name(self, review) -> str:
        profile = getattr(review.author, "profile", None)
        return (profile.display_name if profile else "") or "A buyer"


class ReviewInput(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    text = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


class ReviewListCreateApi(APIView):
    pagination_class = DefaultPagination

    def get_permissions(self):
        # Anyone may read the visible reviews; writing one is a person's (not an API key's) words.
        return [AllowAny()] if self.request.method in SAFE_METHODS else [IsAuthenticated()]

    @extend_schema(
        tags=["marketplace"],
        summary="The template's visible reviews, newest first",
        responses={200: ReviewOutput(many=True), 404: NOT_FOUND},
    )
    def get(self, request, slug: str):
        template = prompt_template_get_for_viewer(slug=slug, viewer=api_viewer(request))
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(review_list_visible(template=template), request, view=self)
        return paginator.get_paginated_response(ReviewOutput(page, many=True).data)

    @extend_schema(
        tags=["marketplace"],
        summary="Review a template your organization owns (one review per member and template)",
        parameters=[CUSTOMER],
        request=ReviewInput,
        responses={
            201: ReviewOutput,
            400: BAD_REQUEST,
            401: UNAUTHENTICATED,
            403: error("`owners_only`: the organization does not own it, or sells it"),
            404: NOT_FOUND,
            409: error("`already_reviewed`"),
        },
    )
    def post(self, request, slug: str):
        if not request.user.is_authenticated:  # reviews are people's words, not an API key's
            raise NotAuthenticated()
        viewer = api_viewer(request)
        template = prompt_template_get_for_viewer(slug=slug, viewer=viewer)
        data = ReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        review = review_create(
            template=template, organization=viewer.organization, author=request.user, **data.validated_data
        )
        return Response(ReviewOutput(review).data, status=status.HTTP_201_CREATED)


def _review_for(request, review_id: int) -> Review:
    if not request.user.is_authenticated:
        raise NotAuthenticated()
    review = Review.objects.visible().select_related("template", "author__profile").filter(pk=review_id).first()
    if review is None:
        raise Http404("No such review.")
    prompt_template_get_for_viewer(slug=review.template.slug, viewer=api_viewer(request))
    return review


class ReviewDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["marketplace"],
        summary="Change your review",
        request=ReviewInput,
        responses={200: ReviewOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def patch(self, request, review_id: int):
        review = _review_for(request, review_id)
        data = ReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        review = review_update(review=review, actor=request.user, **data.validated_data)
        return Response(ReviewOutput(review).data)

    @extend_schema(
        tags=["marketplace"],
        summary="Delete your review",
        responses={204: None, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def delete(self, request, review_id: int):
        review_delete(review=_review_for(request, review_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReplyInput(serializers.Serializer):
    text = serializers.CharField(max_length=4000)


class ReviewReplyApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["marketplace"],
        summary="The seller's one reply to a review",
        request=ReplyInput,
        responses={
            200: ReviewOutput,
            400: BAD_REQUEST,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: error("`already_replied`"),
        },
    )
    def post(self, request, review_id: int):
        review = _review_for(request, review_id)
        data = ReplyInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(ReviewOutput(review_reply(review=review, actor=request.user, **data.validated_data)).data)
