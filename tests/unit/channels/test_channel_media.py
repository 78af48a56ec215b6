"""Media on posts: the adapters ask for them as X and Mastodon document, and map them alike; replay lists."""

from __future__ import annotations

import json
from pathlib import Path

from civictracker.channels.mastodon import MastodonChannel
from civictracker.channels.media import MediaRef, from_mastodon, from_replay, from_x
from civictracker.channels.replay import ReplayChannel
from civictracker.channels.x import XChannel
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.x_api import FakeX


def test_x_mentions_and_dms_bring_their_media(fake_x: FakeX, x_channel: XChannel) -> None:
    fake_x.add_tweet(
        "ana",
        "@CambridgeFix pothole on Hampshire St",
        media=[
            {"type": "photo", "alt_text": "A deep pothole by a hydrant", "width": 1600, "height": 1200},
            {"type": "video"},
        ],
    )
    fake_x.add_tweet("bo", "@CambridgeFix no pictures here")
    fake_x.add_dm("cy", "photo of the party noise source", media=[{"type": "photo"}])
    posts = x_channel.fetch_since(None).posts
    by_author = {p.author_handle: p for p in posts}
    photo, video = by_author["ana"].media
    assert photo.type == "photo" and photo.alt_text == "A deep pothole by a hydrant"
    assert str(photo.url).startswith("https://pbs.twimg.com/media/") and (photo.width, photo.height) == (
        1600,
        1200,
    )
    assert video.type == "video" and video.url is None and str(video.preview_url).startswith("https://")
    assert photo.key.startswith("3_") and video.key.startswith("7_")  # X's media keys
    assert by_author["bo"].media == ()
    dm = by_author["cy"]
    assert dm.is_dm and len(dm.media) == 1 and dm.media[0].alt_text is None  # X leaves alt_text out
    # the raw JSON keeps the media objects as X sent them, for this post only
    assert [m["media_key"] for m in by_author["ana"].raw["includes"]["media"]] == [photo.key, video.key]
    # asked as documented: the expansion and the media fields, on mentions and on DM events
    asked = [q for (_, path, q) in fake_x.requests if path.endswith("/mentions") or path == "/2/dm_events"]
    assert asked and all("attachments.media_keys" in q["expansions"] for q in asked)
    assert all(q["media.fields"] == "type,url,preview_image_url,alt_text,width,height" for q in asked)
    assert "attachments" in next(q for (_, p, q) in fake_x.requests if p == "/2/dm_events")["dm_event.fields"]


def test_mastodon_media_attachments_map_type_url_preview_and_description(
    fake_masto: FakeMastodon, masto_channel: MastodonChannel
) -> None:
    fake_masto.add_status(
        "ana",
        "@cambridgefix streetlight out on Cambridge St",
        media=[{"type": "image", "description": "A dark street at night", "width": 800, "height": 600},
               {"type": "audio", "description": None}],
    )  # fmt: skip
    (post,) = masto_channel.fetch_since(None).posts
    image, audio = post.media
    assert (image.type, image.alt_text, image.width, image.height) == (
        "image",
        "A dark street at night",
        800,
        600,
    )
    assert str(image.url).startswith("https://fake.social/system/media_attachments/files/")
    assert str(image.preview_url).endswith(".jpg")
    assert audio.type == "audio" and audio.alt_text is None


def test_mappers_take_malformed_input_without_raising() -> None:
    assert from_x("not a list", []) == ()
    assert from_x(["3_1"], "nope") == (MediaRef(key="3_1", type=""),)  # a key without its object: kept, bare
    assert from_mastodon({"id": 1}) == ()
    assert from_mastodon([{"id": 1, "type": "image", "meta": "bad"}])[0].width is None
    assert from_replay(None) == ()
    assert isinstance(from_replay("http://x/y.jpg"), str)
    assert from_replay([7])[0].type == ""  # an item that is no object: kept as an unreadable attachment


def test_replay_media_list_and_a_bad_one_that_keeps_the_post(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    lines = [
        {"id": "m1", "kind": "mention", "author_handle": "ana", "text": "pothole",
         "media": [{"type": "photo", "url": "https://img.example/p.jpg", "alt_text": "hole"}]},
        {"id": "m2", "kind": "mention", "author_handle": "bo", "text": "streetlight", "media": "https://img.example"},
        {"id": "m3", "kind": "mention", "author_handle": "cy", "text": "tree down"},
    ]  # fmt: skip
    feed.write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    result = ReplayChannel(feed).fetch_since(None)
    assert [p.external_id for p in result.posts] == ["m1", "m2", "m3"]  # nothing lost
    assert result.posts[0].media[0].url == "https://img.example/p.jpg"
    assert result.posts[1].media == () and result.posts[1].raw["media"] == "https://img.example"
    assert [(e.where, "media must be a list" in e.message) for e in result.errors] == [("line 2", True)]


def test_x_webhook_v1_media_of_tweets_and_dms() -> None:
    from civictracker.channels.x_webhook import parse_activity

    photo = {"id_str": "1050118620000000001", "media_url_https": "https://pbs.twimg.com/media/DpQ.jpg",
             "type": "photo", "ext_alt_text": "Pothole", "original_info": {"width": 1024, "height": 768}}  # fmt: skip
    video = {"id_str": "1050118620000000002", "type": "video",
             "media_url_https": "https://pbs.twimg.com/ext_tw_video_thumb/1/pu/img/v.jpg"}  # fmt: skip
    payload = {
        "for_user_id": "1000",
        "tweet_create_events": [
            {"id_str": "11", "text": "@CambridgeFix pothole", "user": {"id_str": "2001", "screen_name": "ana"},
             "entities": {"user_mentions": [{"id_str": "1000"}], "media": [photo]},
             "extended_entities": {"media": [photo, video]}},
        ],
        "direct_message_events": [
            {"type": "message_create", "id": "12", "created_timestamp": "1516403560557",
             "message_create": {"target": {"recipient_id": "1000"}, "sender_id": "3001",
                                "message_data": {"text": "see photo", "attachment": {"type": "media", "media": photo}}}},
        ],
    }  # fmt: skip
    tweet, dm = parse_activity(payload)
    assert [(m.type, m.url, m.preview_url) for m in tweet.media] == [
        ("photo", "https://pbs.twimg.com/media/DpQ.jpg", None),
        ("video", None, "https://pbs.twimg.com/ext_tw_video_thumb/1/pu/img/v.jpg"),
    ]
    assert (tweet.media[0].alt_text, tweet.media[0].width, tweet.media[0].height) == ("Pothole", 1024, 768)
    assert dm.is_dm and [m.key for m in dm.media] == ["1050118620000000001"]
