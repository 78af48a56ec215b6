"""What a stored post says beyond its columns: kept in services/post_facts.py, which the inbox shares."""

from civictracker.services.post_facts import (
    PRIVATE_VISIBILITIES,
    VISIBILITY_KEY,
    is_private_post,
    post_visibility,
    thread_ids,
    thread_of,
)

__all__ = [
    "PRIVATE_VISIBILITIES",
    "VISIBILITY_KEY",
    "is_private_post",
    "post_visibility",
    "thread_ids",
    "thread_of",
]
