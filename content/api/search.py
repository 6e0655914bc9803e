"""/api/v1/content/search/: ranked search over lessons, tutorials, quizzes and courses."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from common.events import event_source
from common.pagination import DefaultPagination
from common.schema import BAD_REQUEST
from content.models import Difficulty, Tier
from content.selectors import SearchFilters, SearchType, content_search
from content.services import content_search_record


class SearchInput(serializers.Serializer):
    q = serializers.CharField(max_length=200, trim_whitespace=True)
    type = serializers.ChoiceField(choices=[t.value for t in SearchType], required=False, default="")
    course = serializers.SlugField(max_length=64, required=False, default="")
    principle = serializers.IntegerField(min_value=1, required=False, default=None)
    difficulty = serializers.ChoiceField(choices=Difficulty.choices, required=False, default="")
    tier = serializers.ChoiceField(choices=Tier.choices, required=False, default="")


class SearchHitOutput(serializers.Serializer):
    type = serializers.CharField()
    slug = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField()
    snippet = serializers.CharField(help_text="Escaped HTML; matching words in <mark>.")
    rank = serializers.FloatField()
    difficulty = serializers.CharField()
    tier = serializers.CharField(help_text="free, premium, purchasable (quizzes) or empty (courses).")


class SearchApi(APIView):
    permission_classes = [AllowAny]
    pagination_class = DefaultPagination

    @extend_schema(
        tags=["content"],
        summary="Search content, best match first (typos and partial words are found)",
        parameters=[SearchInput],
        responses={200: SearchHitOutput(many=True), 400: BAD_REQUEST},
    )
    def get(self, request):
        params = SearchInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        filters = SearchFilters(**{k: v for k, v in data.items() if k != "q"})
        paginator = DefaultPagination()
        hits = content_search(query=data["q"], filters=filters)
        page = paginator.paginate_queryset(hits, request, view=self)
        if paginator.page.number == 1:
            content_search_record(source=event_source(request), query=data["q"], filters=filters, results=len(hits))
        return paginator.get_paginated_response(SearchHitOutput(page, many=True).data)
