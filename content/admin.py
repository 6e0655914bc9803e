"""Content back office: staff write articles and quizzes here.

A slug is the id billing's purchases refer to, so it is fixed once the item exists.
"""

from django.contrib import admin

from content.models import Article, Question, Quiz


class FixedSlugAdmin(admin.ModelAdmin):
    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "slug") if obj is not None else fields

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None else {"slug": ("title",)}


@admin.register(Article)
class ArticleAdmin(FixedSlugAdmin):
    list_display = ["title", "slug", "tier", "price_amount", "currency", "is_published", "updated_at"]
    list_filter = ["tier", "is_published"]
    search_fields = ["title", "slug", "summary"]
    fields = ["title", "slug", "summary", "body", "tier", "price_amount", "currency", "is_published"]


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 1
    fields = ["order", "text", "choices", "correct_index"]


@admin.register(Quiz)
class QuizAdmin(FixedSlugAdmin):
    list_display = ["title", "slug", "price_amount", "currency", "is_published", "updated_at"]
    list_filter = ["is_published"]
    search_fields = ["title", "slug", "description"]
    fields = ["title", "slug", "description", "price_amount", "currency", "is_published"]
    inlines = [QuestionInline]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["quiz", "order", "text"]
    list_select_related = ["quiz"]
    search_fields = ["text", "quiz__title"]
    fields = ["quiz", "order", "text", "choices", "correct_index"]
