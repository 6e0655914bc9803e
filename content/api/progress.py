"""/api/v1/content/progress/: the signed-in user's progress per lesson, written from any device."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from common.events import event_source
from common.pagination import DefaultPagination
from common.schema import BAD_REQUEST, NOT_FOUND, UNAUTHENTICATED, error
from content.api.common import api_viewer
from content.models import Lesson, Progress
from content.services import PROGRESS_MAX_SECONDS_PER_WRITE, progress_record

LOCKED = error("`locked`: the lesson is not open to you.")


class ProgressInput(serializers.Serializer):
    percent = serializers.IntegerField(min_value=0, max_value=100, default=0)
    position = serializers.IntegerField(min_value=0, default=0, help_text="Where the reader is, as the device counts.")
    seconds = serializers.IntegerField(
        min_value=0, max_value=PROGRESS_MAX_SECONDS_PER_WRITE, default=0,
        help_text="Seconds spent reading since this device's last write (added up).",
    )
    completed = serializers.BooleanField(default=False)


class ProgressOutput(serializers.ModelSerializer):
    lesson = serializers.CharField(source="lesson.slug")
    title = serializers.CharField(source="lesson.title")
    completed = serializers.BooleanField(source="is_completed")

    class Meta:
        model = Progress
        fields = ["lesson", "title", "percent", "position", "seconds_spent", "completed", "started_at",
                  "completed_at", "updated_at"]


class ProgressListApi(APIView):
    pagination_class = DefaultPagination

    @extend_schema(tags=["content"], summary="Your progress, most recently read first",
                   responses={200: ProgressOutput(many=True), 401: UNAUTHENTICATED})
    def get(self, request):
        progress = (
            Progress.objects.filter(user=request.user, lesson__is_published=True)
            .select_related("lesson")
            .defer("lesson__body", "lesson__body_html", "lesson__search_vector")
        )
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(progress, request, view=self)
        return paginator.get_paginated_response(ProgressOutput(page, many=True).data)


class ProgressDetailApi(APIView):
    @extend_schema(tags=["content"], summary="Your progress on one lesson",
                   responses={200: ProgressOutput, 401: UNAUTHENTICATED, 404: NOT_FOUND})
    def get(self, request, item: str):
        progress = get_object_or_404(
            Progress.objects.select_related("lesson"), user=request.user, lesson__slug=item, lesson__is_published=True
        )
        return Response(ProgressOutput(progress).data)

    @extend_schema(
        tags=["content"],
        summary="Record progress from a device: merged by maximum, seconds added, completion set once",
        request=ProgressInput,
        responses={200: ProgressOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: LOCKED, 404: NOT_FOUND},
    )
    def put(self, request, item: str):
        lesson = get_object_or_404(Lesson.objects.published().defer("body", "body_html", "search_vector"), slug=item)
        data = ProgressInput(data=request.data)
        data.is_valid(raise_exception=True)
        written = progress_record(
            user=request.user,
            lesson=lesson,
            viewer=api_viewer(request),
            source=event_source(request),
            **data.validated_data,
        )
        return Response(ProgressOutput(written.progress).data)


@extend_schema(exclude=True)
class ProgressDetailSlashApi(ProgressDetailApi):
    """The same with a trailing slash, for clients that add one (documented once, without it)."""
