"""/api/v1/content/conversations/: the AI tutor's conversations (list, create, open, rename, delete) and questions.

Signed in (JWT or session), conversations are the user's; signed out, the browser
session's, and then a POST, PATCH or DELETE needs the CSRF token like any session
request (403 `csrf_failed`; listing the conversations sets the `csrftoken` cookie).
Asking counts against the plan's `ai_chat` quota (Free: 5 a day per member): past it,
402 `quota_exceeded` whose message names when it resets.
"""

from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.authentication import BrowserSessionCsrf
from common.pagination import DefaultPagination
from common.schema import BAD_REQUEST, NOT_FOUND, error
from content.api.common import api_viewer
from content.models import ChatMessage, Conversation
from content.services import (
    chat_ask,
    chat_owner_id,
    conversation_create,
    conversation_delete,
    conversation_rename,
)

QUOTA = error("`quota_exceeded`: today's AI chats are used up; the message says when they reset.")
UNAVAILABLE = error("`ai_unavailable`: the AI provider failed or timed out; the question is kept.")


class MessageOutput(serializers.ModelSerializer):
    role = serializers.CharField(help_text="`user` (the learner) or `assistant` (the tutor).")

    class Meta:
        model = ChatMessage
        fields = ["id", "role", "content", "citations", "created_at"]


class ConversationOutput(serializers.ModelSerializer):
    class Meta:
        model = Conversation
        fields = ["id", "title", "created_at", "updated_at"]


class ConversationDetailOutput(ConversationOutput):
    messages = MessageOutput(many=True, read_only=True)

    class Meta(ConversationOutput.Meta):
        fields = [*ConversationOutput.Meta.fields, "messages"]


class ConversationInput(serializers.Serializer):
    title = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")


class RenameInput(serializers.Serializer):
    title = serializers.CharField(max_length=120)


class AskInput(serializers.Serializer):
    content = serializers.CharField(max_length=2000)


class TurnOutput(serializers.Serializer):
    question = MessageOutput()
    answer = MessageOutput()


def _owned(request):
    if request.user.is_authenticated:
        return Conversation.objects.filter(user=request.user)
    owner = chat_owner_id(request.session)
    if not owner:
        return Conversation.objects.none()
    return Conversation.objects.filter(user__isnull=True, anonymous_owner=owner)


class TutorApiView(APIView):
    """Open to visitors, whose conversations live in their browser session: CSRF applies to them too."""

    permission_classes = [AllowAny]
    authentication_classes = [*api_settings.DEFAULT_AUTHENTICATION_CLASSES, BrowserSessionCsrf]


class ConversationListApi(TutorApiView):
    pagination_class = DefaultPagination

    @extend_schema(tags=["tutor"], summary="Your conversations, most recent first",
                   responses={200: ConversationOutput(many=True)})
    @method_decorator(ensure_csrf_cookie)
    def get(self, request):
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(_owned(request), request, view=self)
        return paginator.get_paginated_response(ConversationOutput(page, many=True).data)

    @extend_schema(tags=["tutor"], summary="Start a conversation", request=ConversationInput,
                   responses={201: ConversationOutput, 400: BAD_REQUEST})
    def post(self, request):
        data = ConversationInput(data=request.data)
        data.is_valid(raise_exception=True)
        if request.user.is_authenticated:
            conversation = conversation_create(user=request.user, title=data.validated_data["title"])
        else:
            owner = chat_owner_id(request.session, create=True)
            conversation = conversation_create(anonymous_owner=owner, title=data.validated_data["title"])
        return Response(ConversationOutput(conversation).data, status=status.HTTP_201_CREATED)


class ConversationDetailApi(TutorApiView):
    @extend_schema(tags=["tutor"], summary="A conversation with its messages",
                   responses={200: ConversationDetailOutput, 404: NOT_FOUND})
    def get(self, request, pk):
        conversation = get_object_or_404(_owned(request).prefetch_related("messages"), pk=pk)
        return Response(ConversationDetailOutput(conversation).data)

    @extend_schema(tags=["tutor"], summary="Rename a conversation", request=RenameInput,
                   responses={200: ConversationOutput, 400: BAD_REQUEST, 404: NOT_FOUND})
    def patch(self, request, pk):
        conversation = get_object_or_404(_owned(request), pk=pk)
        data = RenameInput(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = conversation_rename(conversation=conversation, title=data.validated_data["title"])
        return Response(ConversationOutput(conversation).data)

    @extend_schema(tags=["tutor"], summary="Delete a conversation and its messages",
                   responses={204: None, 404: NOT_FOUND})
    def delete(self, request, pk):
        conversation_delete(conversation=get_object_or_404(_owned(request), pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConversationAskApi(TutorApiView):
    @extend_schema(
        tags=["tutor"],
        summary="Ask the tutor: counted against the plan's AI chats, answered from Plateau's lessons with citations",
        request=AskInput,
        responses={201: TurnOutput, 400: BAD_REQUEST, 402: QUOTA, 404: NOT_FOUND, 503: UNAVAILABLE},
    )
    def post(self, request, pk):
        conversation = get_object_or_404(_owned(request), pk=pk)
        data = AskInput(data=request.data)
        data.is_valid(raise_exception=True)
        viewer = api_viewer(request)
        turn = chat_ask(
            conversation=conversation,
            user=request.user if request.user.is_authenticated else None,
            organization=viewer.organization,
            viewer=viewer,
            question=data.validated_data["content"],
        )
        return Response(TurnOutput(turn).data, status=status.HTTP_201_CREATED)
