"""Media attached to a post, as every channel names it: X media objects, Mastodon attachments, replay lists.

The adapters map their platform's JSON to `MediaRef`s with these helpers and nothing more: no check, no
fetch. Whether a URL is safe to keep or a type may be published is decided when the post is stored
(services/photos.py), so a strange attachment never stops a post from being read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MediaRef:
    """One attachment as the platform described it; every field as given (validated later)."""

    key: str  # the platform's media key / attachment id ("3_1790..." on X, "1123" on Mastodon)
    type: str  # the platform's own word: photo, animated_gif, video (X); image, gifv, video, audio (Mastodon)
    url: Any = None  # the file (X: photos only; Mastodon: the original)
    preview_url: Any = None  # a still (X: videos and GIFs; Mastodon: every type)
    alt_text: Any = None  # the author's description; None when they wrote none
    width: Any = None
    height: Any = None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def from_x(media_keys: Any, includes_media: Any) -> tuple[MediaRef, ...]:
    """X API v2: a tweet's or DM event's `attachments.media_keys`, looked up in `includes.media`.

    A key X lists without a media object (it can leave one out, e.g. for a deleted file) is kept as a
    bare reference, so the console can say an attachment was there.
    """
    if not isinstance(media_keys, list):
        return ()
    by_key = {_text(m.get("media_key")): m for m in _dicts(includes_media) if m.get("media_key") is not None}
    refs = []
    for key in media_keys:
        media = by_key.get(_text(key), {})
        refs.append(
            MediaRef(
                key=_text(key),
                type=_text(media.get("type")),
                url=media.get("url"),
                preview_url=media.get("preview_image_url"),
                alt_text=media.get("alt_text"),
                width=media.get("width"),
                height=media.get("height"),
            )
        )
    return tuple(refs)


def from_x_v1(media: Any) -> tuple[MediaRef, ...]:
    """X v1.1 media entities (the Account Activity webhook): `extended_entities.media` of a tweet, or a DM's
    `attachment.media`. `media_url_https` is the photo itself, or the still of a video or GIF."""
    refs = []
    for item in _dicts(media):
        kind = _text(item.get("type"))
        info = item.get("original_info")
        info = info if isinstance(info, Mapping) else {}
        image = item.get("media_url_https") or item.get("media_url")
        refs.append(
            MediaRef(
                key=_text(item.get("media_key") or item.get("id_str") or item.get("id")),
                type=kind,
                url=image if kind == "photo" else None,
                preview_url=None if kind == "photo" else image,
                alt_text=item.get("ext_alt_text"),
                width=info.get("width"),
                height=info.get("height"),
            )
        )
    return tuple(refs)


def from_mastodon(attachments: Any) -> tuple[MediaRef, ...]:
    """Mastodon: a status's `media_attachments` (type, url, preview_url, description = alt text, meta)."""
    refs = []
    for item in _dicts(attachments):
        meta = item.get("meta")
        original = meta.get("original") if isinstance(meta, Mapping) else None
        original = original if isinstance(original, Mapping) else {}
        refs.append(
            MediaRef(
                key=_text(item.get("id")),
                type=_text(item.get("type")),
                url=item.get("url") or item.get("remote_url"),
                preview_url=item.get("preview_url"),
                alt_text=item.get("description"),
                width=original.get("width"),
                height=original.get("height"),
            )
        )
    return tuple(refs)


def from_replay(media: Any) -> tuple[MediaRef, ...] | str:
    """A replay line's optional `media` list (docs/replay-format.md); a message when it is not a list."""
    if media is None:
        return ()
    if not isinstance(media, list):
        return f"media must be a list of objects, not {type(media).__name__}"
    refs = []
    for index, item in enumerate(media):
        if not isinstance(item, Mapping):
            # kept as an attachment that cannot be read, so the console says one was there
            refs.append(MediaRef(key=str(index + 1), type="", url=None))
            continue
        refs.append(
            MediaRef(
                key=_text(item.get("id") or index + 1),
                type=_text(item.get("type")),
                url=item.get("url"),
                preview_url=item.get("preview_url"),
                alt_text=item.get("alt_text"),
                width=item.get("width"),
                height=item.get("height"),
            )
        )
    return tuple(refs)


def replay_media(raw: Mapping[str, Any]) -> tuple[tuple[MediaRef, ...], str | None]:
    """A replay line's attachments, and what is wrong when its `media` is not a list (the post is kept)."""
    media = from_replay(raw.get("media"))
    if isinstance(media, str):
        return (), f"{media}; the post is kept without its media"
    return media, None


def _dicts(value: Any) -> Iterable[Mapping[str, Any]]:
    if not isinstance(value, list):
        return ()
    return (v for v in value if isinstance(v, Mapping))
