"""What the AI tutor answers from: Plateau's lessons, through content search (common.ai's retriever)."""

from django.utils.html import strip_tags

from billing.models import ItemType
from billing.selectors import Viewer
from common.ai import Source
from common.search import search_rank, search_words
from content.models import Lesson, Tier

# Words that say nothing about the topic; a question is searched by its other words.
STOP_WORDS = frozenset(
    "a an and are as at be but by can could do does for from had has have how i if in into is it its me my "
    "of on or our should so that the their them then there these this to us was we what when where which "
    "who why will with would you your".split()
)
SOURCE_CHARS = 1500


def _open_lessons(viewer: Viewer):
    """Lessons the viewer may read: free ones and the premium ones they own (the tutor never leaks the rest)."""
    owned = viewer.owned_item_ids(item_type=ItemType.ARTICLE.value)
    lessons = Lesson.objects.published()
    return lessons.filter(tier=Tier.FREE) | lessons.filter(tier=Tier.PREMIUM, slug__in=owned)


def lesson_retriever(viewer: Viewer):
    """A common.ai retriever over the lessons open to this viewer: every topic word first, else any of them."""

    def retrieve(question: str, limit: int) -> list[Source]:
        words = [w for w in search_words(question) if w not in STOP_WORDS and len(w) > 1]
        if not words:
            return []
        lessons = _open_lessons(viewer).defer("search_vector")
        found = list(search_rank(queryset=lessons, query=" ".join(words), limit=limit))
        if not found:
            best: dict[int, tuple[float, Lesson]] = {}
            for word in words:
                for lesson in search_rank(queryset=lessons, query=word, limit=limit):
                    rank, _ = best.get(lesson.pk, (0.0, lesson))
                    best[lesson.pk] = (rank + lesson.search_rank, lesson)
            found = [lesson for _, lesson in sorted(best.values(), key=lambda pair: (-pair[0], pair[1].pk))][:limit]
        return [
            Source(
                title=lesson.title,
                url=f"/learn/lessons/{lesson.slug}/",
                text=f"{lesson.summary} {strip_tags(lesson.body_html)}"[:SOURCE_CHARS],
            )
            for lesson in found
        ]

    return retrieve
