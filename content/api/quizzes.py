"""/api/v1/content/quizzes/: a quiz's questions (to owners, without the answers) and graded attempts."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from common.pagination import DefaultPagination
from common.schema import BAD_REQUEST, NOT_FOUND, UNAUTHENTICATED, error
from content.api.common import api_viewer
from content.exceptions import ItemLocked
from content.models import Quiz, QuizAttempt
from content.selectors import quiz_access, quiz_attempt_results, quiz_best_attempt
from content.services import quiz_attempt_submit

LOCKED = error("`locked`: the quiz is not yours yet (buy it, or use your plan's quota on the page).")


class QuestionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField())


class QuizOutput(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    questions = QuestionOutput(many=True)
    best_score = serializers.IntegerField(allow_null=True)


class AttemptInput(serializers.Serializer):
    answers = serializers.DictField(
        child=serializers.IntegerField(allow_null=True, min_value=0),
        help_text='Question id → index of the chosen answer, e.g. {"12": 1}. Missing counts as wrong.',
    )


class ResultOutput(serializers.Serializer):
    question = serializers.IntegerField(source="question.pk")
    chosen = serializers.IntegerField(allow_null=True)
    correct = serializers.IntegerField(source="question.correct_index")
    is_correct = serializers.BooleanField()
    explanation = serializers.CharField(source="question.explanation")


class AttemptOutput(serializers.Serializer):
    id = serializers.IntegerField()
    score = serializers.IntegerField()
    total = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    results = serializers.SerializerMethodField()

    def get_results(self, attempt) -> list[dict]:
        return ResultOutput(quiz_attempt_results(attempt=attempt), many=True).data


def _quiz(slug: str) -> Quiz:
    return get_object_or_404(Quiz.objects.published(), slug=slug)


class QuizDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(tags=["content"], summary="A quiz's questions, without the answers (owners only)",
                   responses={200: QuizOutput, 403: LOCKED, 404: NOT_FOUND})
    def get(self, request, slug: str):
        quiz = _quiz(slug)
        if not quiz_access(viewer=api_viewer(request), quiz=quiz).is_open:
            raise ItemLocked()
        best = quiz_best_attempt(quiz=quiz, user=request.user)
        payload = {
            "slug": quiz.slug, "title": quiz.title, "description": quiz.description,
            "questions": [{"id": q.pk, "text": q.text, "choices": q.choices} for q in quiz.questions.all()],
            "best_score": best.score if best else None,
        }
        return Response(QuizOutput(payload).data)


class QuizAttemptListCreateApi(APIView):
    permission_classes = [IsAuthenticated]
    pagination_class = DefaultPagination

    @extend_schema(tags=["content"], summary="Your attempts at a quiz, newest first, with the results",
                   responses={200: AttemptOutput(many=True), 401: UNAUTHENTICATED, 404: NOT_FOUND})
    def get(self, request, slug: str):
        attempts = QuizAttempt.objects.filter(quiz=_quiz(slug), user=request.user).select_related("quiz")
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(attempts, request, view=self)
        return paginator.get_paginated_response(AttemptOutput(page, many=True).data)

    @extend_schema(tags=["content"], summary="Submit answers: graded on the server, kept, returned with the answers",
                   request=AttemptInput,
                   responses={201: AttemptOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: LOCKED, 404: NOT_FOUND})
    def post(self, request, slug: str):
        quiz = _quiz(slug)
        data = AttemptInput(data=request.data)
        data.is_valid(raise_exception=True)
        attempt = quiz_attempt_submit(
            quiz=quiz, user=request.user, viewer=api_viewer(request), answers=data.validated_data["answers"]
        )
        return Response(AttemptOutput(attempt).data, status=status.HTTP_201_CREATED)
