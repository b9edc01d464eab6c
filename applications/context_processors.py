"""Template context of the applications app shared by every page."""

from functools import cache

from . import todo


def todo_count(request):
    """The number of to-do entries beside the navigation's 待办, read only when shown."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "todo_count": cache(lambda: todo.todo_count(user)),
        "todo_count_shown": todo.TODO_COUNT_SHOWN,
    }
