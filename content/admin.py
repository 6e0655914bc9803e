"""Content back office: staff write courses, lessons and quizzes here, with history and rollback.

Every save through these pages is a django-reversion version (author, time, the item with
its inlines); the history page lists them with a diff against the current state, and
reverting one saves it again: a new version, and an audit-log entry naming the actor.
A slug is the id billing's purchases refer to, so it is fixed once the item exists.
"""

import difflib

from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone
from reversion.admin import VersionAdmin
from reversion.models import Version

from content.models import (
    Achievement,
    Chapter,
    ChatMessage,
    Comment,
    Conversation,
    Course,
    Lesson,
    Post,
    PostingSuspension,
    Principle,
    Progress,
    Question,
    Quiz,
    QuizAttempt,
    Report,
    Tag,
)
from content.services import moderation_set


class FixedSlugAdmin(admin.ModelAdmin):
    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "slug") if obj is not None else fields

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None else {"slug": ("title",)}


class HistoryAdmin(VersionAdmin):
    """VersionAdmin plus a diff of any version against the item as it is now."""

    object_history_template = "content/admin/object_history.html"
    history_latest_first = True

    def get_urls(self):
        opts = self.model._meta
        diff = path(
            "<path:object_id>/history/<int:version_id>/diff/",
            self.admin_site.admin_view(self.version_diff_view),
            name=f"{opts.app_label}_{opts.model_name}_version_diff",
        )
        return [diff, *super().get_urls()]

    def revision_view(self, request, object_id, version_id, extra_context=None):
        """Revert to a version; the rollback is written to the audit log with its actor.

        django-reversion restores the row with a raw save that auditlog cannot compare, and the
        form saved next finds nothing changed: so the change is logged here, before → after.
        """
        if request.method != "POST" or not auditlog.contains(self.model):
            return super().revision_view(request, object_id, version_id, extra_context)
        before = self.model._default_manager.filter(pk=unquote(object_id)).first()
        response = super().revision_view(request, object_id, version_id, extra_context)
        if response.status_code == 302 and before is not None:
            after = self.model._default_manager.get(pk=before.pk)
            changes = model_instance_diff(before, after, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES)
            LogEntry.objects.log_create(
                after,
                force_log=True,
                action=LogEntry.Action.UPDATE,
                changes=changes or {},
                actor=request.user,
                additional_data={"rollback_to_version": int(version_id)},
            )
        return response

    def version_diff_view(self, request, object_id, version_id):
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404("No such item.")
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        version = get_object_or_404(Version.objects.get_for_object(obj).select_related("revision__user"), pk=version_id)
        old = version.field_dict
        rows = []
        # The fields staff edit on this page (timestamps are kept at millisecond precision in versions).
        shown = set(flatten_fieldsets(self.get_fieldsets(request, obj)))
        for field in self.model._meta.concrete_fields:
            if field.name not in old or field.name not in shown:
                continue
            before, after = _text(old.get(field.name)), _text(getattr(obj, field.attname))
            if before != after:
                lines = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="")
                rows.append({"field": field.verbose_name, "diff": list(lines)[2:]})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "version": version,
            "rows": rows,
            "title": f"Changes since the version of {version.revision.date_created:%Y-%m-%d %H:%M}",
        }
        return render(request, "content/admin/version_diff.html", context)


def _text(value) -> str:
    return "" if value is None else str(value)


class ChapterInline(admin.TabularInline):
    model = Chapter
    extra = 0
    fields = ["order", "title", "summary"]
    show_change_link = True


class PrincipleInline(admin.TabularInline):
    model = Principle
    extra = 0
    fields = ["order", "title", "summary"]
    show_change_link = True


class LessonInline(admin.TabularInline):
    model = Lesson
    extra = 0
    fields = ["order", "title", "kind", "tier", "is_published"]
    readonly_fields = ["title", "kind", "tier", "is_published"]
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # a lesson is written on its own page (body, price, slug)


class QuizInline(admin.TabularInline):
    model = Quiz
    extra = 0
    fields = ["order", "title", "is_published"]
    readonly_fields = ["title", "is_published"]
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Course)
class CourseAdmin(FixedSlugAdmin, HistoryAdmin):
    list_display = ["title", "slug", "difficulty", "order", "is_published", "updated_at"]
    list_editable = ["order"]
    list_filter = ["difficulty", "is_published"]
    search_fields = ["title", "slug", "summary"]
    fields = ["title", "slug", "summary", "description", "difficulty", "order", "is_published"]
    inlines = [ChapterInline]


@admin.register(Chapter)
class ChapterAdmin(HistoryAdmin):
    list_display = ["title", "course", "order"]
    list_filter = ["course"]
    list_select_related = ["course"]
    search_fields = ["title", "course__title"]
    fields = ["course", "title", "summary", "order"]
    inlines = [PrincipleInline, QuizInline]


@admin.register(Principle)
class PrincipleAdmin(HistoryAdmin):
    list_display = ["title", "chapter", "order"]
    list_filter = ["chapter__course"]
    list_select_related = ["chapter"]
    search_fields = ["title", "chapter__title"]
    fields = ["chapter", "title", "summary", "order"]
    inlines = [LessonInline]


@admin.register(Lesson)
class LessonAdmin(FixedSlugAdmin, HistoryAdmin):
    list_display = ["title", "slug", "kind", "principle", "tier", "price_amount", "is_published", "updated_at"]
    list_filter = ["kind", "tier", "difficulty", "is_published", "principle__chapter__course"]
    list_select_related = ["principle"]
    search_fields = ["title", "slug", "summary"]
    filter_horizontal = ["tags"]
    fields = [
        "title", "slug", "kind", "principle", "order", "summary", "body", "tier", "price_amount", "currency",
        "difficulty", "minutes", "tags", "is_published",
    ]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ("name",)}


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 1
    fields = ["order", "text", "choices", "correct_index", "explanation"]


@admin.register(Quiz)
class QuizAdmin(FixedSlugAdmin, HistoryAdmin):
    list_display = ["title", "slug", "chapter", "price_amount", "currency", "is_published", "updated_at"]
    list_filter = ["is_published", "difficulty"]
    list_select_related = ["chapter"]
    search_fields = ["title", "slug", "description"]
    fields = [
        "title", "slug", "chapter", "order", "description", "difficulty", "price_amount", "currency", "is_published",
    ]
    inlines = [QuestionInline]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["quiz", "order", "text"]
    list_select_related = ["quiz"]
    search_fields = ["text", "quiz__title"]
    fields = ["quiz", "order", "text", "choices", "correct_index", "explanation"]


# --- Learners' records (read mostly) ------------------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(QuizAttempt)
class QuizAttemptAdmin(ReadOnlyAdmin):
    list_display = ["quiz", "user", "score", "total", "created_at"]
    list_filter = ["quiz"]
    list_select_related = ["quiz", "user"]
    search_fields = ["user__email", "quiz__title"]


@admin.register(Progress)
class ProgressAdmin(ReadOnlyAdmin):
    list_display = ["user", "lesson", "percent", "seconds_spent", "completed_at", "updated_at"]
    list_filter = [("completed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "lesson"]
    search_fields = ["user__email", "lesson__title"]


@admin.register(Achievement)
class AchievementAdmin(ReadOnlyAdmin):
    list_display = ["user", "code", "awarded_at", "emailed_at"]
    list_filter = ["code"]
    list_select_related = ["user"]
    search_fields = ["user__email"]


class ChatMessageInline(admin.TabularInline):
    model = ChatMessage
    extra = 0
    fields = ["role", "content", "provider", "created_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "created_at", "updated_at"]
    list_filter = [("user", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["title", "user__email"]
    readonly_fields = ["user", "anonymous_owner", "created_at", "updated_at"]
    fields = ["title", "user", "anonymous_owner", "created_at", "updated_at"]
    inlines = [ChatMessageInline]


# --- Community moderation ---------------------------------------------------------------------


@admin.action(description="Hide (only the author and staff see it)")
def hide(modeladmin, request, queryset):
    count = moderation_set(queryset=queryset, is_hidden=True)
    modeladmin.message_user(request, f"Hid {count}.")


@admin.action(description="Restore (visible to everyone)")
def restore(modeladmin, request, queryset):
    count = moderation_set(queryset=queryset, is_hidden=False)
    modeladmin.message_user(request, f"Restored {count}.")


@admin.action(description="Lock the thread (no new comments)")
def lock(modeladmin, request, queryset):
    count = moderation_set(queryset=queryset, is_locked=True)
    modeladmin.message_user(request, f"Locked {count}.")


@admin.action(description="Unlock the thread")
def unlock(modeladmin, request, queryset):
    count = moderation_set(queryset=queryset, is_locked=False)
    modeladmin.message_user(request, f"Unlocked {count}.")


class CommentInline(admin.TabularInline):
    model = Comment
    extra = 0
    fields = ["author", "parent", "body", "is_hidden", "like_count"]
    readonly_fields = ["author", "parent", "body", "like_count"]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "lesson", "like_count", "is_hidden", "is_locked", "created_at"]
    list_filter = ["is_hidden", "is_locked"]
    list_select_related = ["author", "lesson"]
    search_fields = ["title", "body", "author__email"]
    fields = ["title", "author", "lesson", "body", "is_hidden", "is_locked", "like_count", "created_at"]
    readonly_fields = ["author", "like_count", "created_at"]
    actions = [hide, restore, lock, unlock]
    inlines = [CommentInline]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "post", "author", "like_count", "is_hidden", "created_at"]
    list_filter = ["is_hidden"]
    list_select_related = ["post", "author"]
    search_fields = ["body", "author__email", "post__title"]
    fields = ["post", "parent", "author", "body", "is_hidden", "like_count", "created_at"]
    readonly_fields = ["post", "parent", "author", "like_count", "created_at"]
    actions = [hide, restore]


@admin.action(description="Mark resolved")
def resolve(modeladmin, request, queryset):
    count = queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
    modeladmin.message_user(request, f"Resolved {count}.")


@admin.action(description="Hide the reported items and mark resolved")
def hide_reported(modeladmin, request, queryset):
    moderation_set(queryset=Post.objects.filter(reports__in=queryset), is_hidden=True)
    moderation_set(queryset=Comment.objects.filter(reports__in=queryset), is_hidden=True)
    count = queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
    modeladmin.message_user(request, f"Hid the items of {count} report(s).")


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["reason", "reporter", "post", "comment", "created_at", "resolved_at"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter)]
    list_select_related = ["reporter", "post", "comment"]
    search_fields = ["reason", "reporter__email"]
    readonly_fields = ["reporter", "post", "comment", "reason", "created_at"]
    actions = [resolve, hide_reported]


@admin.register(PostingSuspension)
class PostingSuspensionAdmin(admin.ModelAdmin):
    list_display = ["user", "reason", "until", "created_at"]
    search_fields = ["user__email", "reason"]
    autocomplete_fields = ["user"]
    fields = ["user", "reason", "until"]
