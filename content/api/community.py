"""/api/v1/content/posts/: the community's posts, comments (one level of replies), likes and reports."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from common.pagination import DefaultPagination
from common.schema import BAD_REQUEST, FORBIDDEN, NOT_FOUND, TOO_MANY, UNAUTHENTICATED
from content.models import Comment, Lesson, Post
from content.services import (
    comment_create,
    comment_delete,
    like_set,
    post_create,
    post_delete,
    post_edit,
    report_create,
)


class CommentOutput(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = ["id", "parent", "author", "body", "body_html", "like_count", "is_hidden", "created_at"]

    def get_author(self, comment) -> str:
        profile = getattr(comment.author, "profile", None)
        return (profile.display_name if profile else "") or "A member"


class PostOutput(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    lesson = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Post
        fields = ["id", "title", "author", "lesson", "body", "body_html", "like_count", "is_locked", "is_hidden",
                  "created_at", "updated_at"]

    def get_author(self, post) -> str:
        profile = getattr(post.author, "profile", None)
        return (profile.display_name if profile else "") or "A member"


class PostDetailOutput(PostOutput):
    comments = serializers.SerializerMethodField()

    class Meta(PostOutput.Meta):
        fields = [*PostOutput.Meta.fields, "comments"]

    def get_comments(self, post) -> list[dict]:
        user = self.context["request"].user
        comments = post.comments.visible_to(user).select_related("author__profile")
        return CommentOutput(comments, many=True).data


class PostInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=20000)
    lesson = serializers.SlugField(required=False, allow_blank=True, default="")


class CommentInput(serializers.Serializer):
    body = serializers.CharField(max_length=10000)
    parent = serializers.IntegerField(required=False, allow_null=True, default=None)


class LikeOutput(serializers.Serializer):
    like_count = serializers.IntegerField()


class ReportInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


def _posts(request):
    return Post.objects.visible_to(request.user).select_related("author__profile", "lesson")


def _comment(request, pk):
    visible_posts = Post.objects.visible_to(request.user)
    return get_object_or_404(Comment.objects.visible_to(request.user).filter(post__in=visible_posts), pk=pk)


REFUSED = {403: FORBIDDEN, 429: TOO_MANY}


class PostListApi(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    pagination_class = DefaultPagination

    @extend_schema(tags=["community"], summary="Posts, newest first (?lesson=<slug> for one lesson's)",
                   responses={200: PostOutput(many=True)})
    def get(self, request):
        posts = _posts(request)
        if request.query_params.get("lesson"):
            posts = posts.filter(lesson__slug=request.query_params["lesson"])
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(posts, request, view=self)
        return paginator.get_paginated_response(PostOutput(page, many=True).data)

    @extend_schema(tags=["community"], summary="Write a post (rate-limited; suspended members are refused)",
                   request=PostInput, responses={201: PostOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, **REFUSED})
    def post(self, request):
        data = PostInput(data=request.data)
        data.is_valid(raise_exception=True)
        lesson = None
        if data.validated_data["lesson"]:
            lesson = get_object_or_404(Lesson.objects.published(), slug=data.validated_data["lesson"])
        post = post_create(author=request.user, title=data.validated_data["title"],
                           body=data.validated_data["body"], lesson=lesson)
        return Response(PostOutput(post).data, status=status.HTTP_201_CREATED)


class PostDetailApi(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(tags=["community"], summary="A post with its visible comments",
                   responses={200: PostDetailOutput, 404: NOT_FOUND})
    def get(self, request, pk: int):
        return Response(PostDetailOutput(get_object_or_404(_posts(request), pk=pk), context={"request": request}).data)

    @extend_schema(tags=["community"], summary="Edit your post (not in a locked thread)", request=PostInput,
                   responses={200: PostOutput, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND})
    def patch(self, request, pk: int):
        post = get_object_or_404(_posts(request), pk=pk)
        data = PostInput(data={"title": post.title, "body": post.body, **request.data})
        data.is_valid(raise_exception=True)
        post = post_edit(post=post, user=request.user, title=data.validated_data["title"],
                         body=data.validated_data["body"])
        return Response(PostOutput(post).data)

    @extend_schema(tags=["community"], summary="Delete your post and its comments",
                   responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND})
    def delete(self, request, pk: int):
        post_delete(post=get_object_or_404(_posts(request), pk=pk), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CommentCreateApi(APIView):
    @extend_schema(tags=["community"], summary="Comment on a post, or reply to a comment (one level)",
                   request=CommentInput,
                   responses={201: CommentOutput, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 404: NOT_FOUND, **REFUSED})
    def post(self, request, pk: int):
        post = get_object_or_404(_posts(request), pk=pk)
        data = CommentInput(data=request.data)
        data.is_valid(raise_exception=True)
        parent = None
        if data.validated_data["parent"]:
            parent = get_object_or_404(Comment.objects.visible_to(request.user).filter(post=post),
                                       pk=data.validated_data["parent"])
        comment = comment_create(post=post, author=request.user, body=data.validated_data["body"], parent=parent)
        return Response(CommentOutput(comment).data, status=status.HTTP_201_CREATED)


class CommentDetailApi(APIView):
    @extend_schema(tags=["community"], summary="Delete your comment", responses={204: None, 403: FORBIDDEN})
    def delete(self, request, pk: int):
        comment_delete(comment=_comment(request, pk), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _target(request, kind: str, pk: int):
    return get_object_or_404(_posts(request), pk=pk) if kind == "posts" else _comment(request, pk)


class LikeApi(APIView):
    @extend_schema(tags=["community"], summary="Like (once per member)", request=None,
                   responses={200: LikeOutput, 401: UNAUTHENTICATED, 404: NOT_FOUND})
    def put(self, request, kind: str, pk: int):
        return Response({"like_count": like_set(user=request.user, target=_target(request, kind, pk), liked=True)})

    @extend_schema(tags=["community"], summary="Take your like back", responses={200: LikeOutput})
    def delete(self, request, kind: str, pk: int):
        return Response({"like_count": like_set(user=request.user, target=_target(request, kind, pk), liked=False)})


class ReportApi(APIView):
    @extend_schema(tags=["community"], summary="Report a post or a comment to staff", request=ReportInput,
                   responses={201: None, 400: BAD_REQUEST, 404: NOT_FOUND})
    def post(self, request, kind: str, pk: int):
        data = ReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        report_create(reporter=request.user, target=_target(request, kind, pk), reason=data.validated_data["reason"])
        return Response(status=status.HTTP_201_CREATED)


