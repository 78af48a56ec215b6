"""From one stored post to the right ticket: thread, triage, locate, dedupe, create or merge, reply.

The steps, each in its module: receive.py stores posts, load.py reads a page, reporters.py keeps authors,
analysis.py judges the text, new_report.py and threads.py act on it (ticketing.py, answer.py), and
services.dedupe / services.following hold the rules they share with the rest of the app.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from civictracker.intake.analysis import Analysis, PostText, analyze_posts, location_summary, triage_summary
from civictracker.intake.context import PageCache, PipelineEnv, PostContext, PostRun
from civictracker.intake.load import load_posts
from civictracker.intake.new_report import handle_new_report
from civictracker.intake.reporters import get_reporter, is_blocked
from civictracker.intake.threads import handle_thread_reply, thread_ticket
from civictracker.intake.ticketing import lock_ticket
from civictracker.models import InboundPost, OutboundMessage, PostOutcome, PostState, Reporter
from civictracker.models.report import DONE_STATES
from civictracker.models.types import utcnow
from civictracker.services.post_facts import is_private_post
from civictracker.triage.lang import is_opt_out


def process_post(
    session: Session,
    post_id: int,
    env: PipelineEnv,
    *,
    page: PageCache | None = None,
    now: dt.datetime | None = None,
    loaded: tuple[InboundPost, Reporter | None] | None = None,
) -> InboundPost:
    """Run one stored post through the pipeline; processing it twice changes nothing.

    `page`: what the posts of one job share (a new one without); its `run` then records what this post
    did. `loaded`: the post and its reporter as `load_posts` read them for a page (no query of its own).
    """
    page = page if page is not None else PageCache()
    page.run = PostRun()  # per post: a long-lived page must not keep every follower alive
    post, reporter = loaded or load_posts(session, [post_id]).get(post_id) or (None, None)
    if post is None:
        raise LookupError(f"inbound post {post_id} does not exist")
    if post.state in DONE_STATES:
        return post
    reporter = get_reporter(session, post, reporter, page)
    ctx = PostContext(session, post, reporter, env, page, now or utcnow())
    analysis = _route(ctx)
    # The post's own bookkeeping is assigned last, next to its outcome (finish): assigned earlier, each
    # flush on the way (the new ticket's id, the follower's) would write the post row once more.
    post.attempts += 1
    post.reporter_id = reporter.id
    if ctx.stages:
        post.stages = ctx.stages
    if analysis is not None:
        post.lang = post.lang or analysis.triage.lang
    return post


def _route(ctx: PostContext) -> Analysis | None:
    """Decide and act on one post (ending in finish); fills `stages`; the analysis, if one was made."""
    post, reporter, env = ctx.post, ctx.reporter, ctx.env
    if post.is_dm and _is_our_message(ctx.session, post):
        ctx.finish(
            PostState.IGNORED,
            PostOutcome.OWN_MESSAGE,
            "One of the city's own messages, read back from the platform; not the resident's.",
        )
        return None
    if reporter.blocked or is_blocked(post, env):
        ctx.finish(
            PostState.IGNORED,
            PostOutcome.BLOCKED,
            "The account is blocked; the post is stored, not ticketed.",
        )
        return None
    if is_opt_out(post.text):
        reporter.opted_out = True
        ctx.finish(PostState.PROCESSED, PostOutcome.OPTED_OUT, "The resident asked for no more replies.")
        return None
    analysis = _analyze(ctx)
    reporter.lang = analysis.triage.lang if analysis.triage.lang in env.replies.templates else reporter.lang
    ctx.stages.update(triage={**triage_summary(analysis.triage)}, locate=location_summary(analysis))
    # (a reply may answer a post earlier in this page, whose rows are not written yet: the page knows it)
    ticket = lock_ticket(ctx, thread_ticket(ctx.session, post, ctx.page))
    if ticket is not None:
        handle_thread_reply(ctx, ticket, analysis)
    else:
        handle_new_report(ctx, analysis)
    return analysis


def _is_our_message(session: Session, post: InboundPost) -> bool:
    """Whether this DM is one we sent: X DM events read without a sender_id are attributed to the other
    member of the conversation (channels/x.py _sender_of), which is the resident for our own too. One
    lookup on the indexed sent_external_id, for DMs only."""
    with session.no_autoflush:
        found = session.scalar(
            select(OutboundMessage.id)
            .where(
                OutboundMessage.channel == post.channel,
                OutboundMessage.sent_external_id == post.external_id,
            )
            .limit(1)
        )
    return found is not None


def _analyze(ctx: PostContext) -> Analysis:
    made = ctx.page.analyses.pop(ctx.post.id, None)  # made before the page took its locks
    return made if made is not None else analyze(ctx.post, ctx.env)


def analyze(post: InboundPost, env: PipelineEnv) -> Analysis:
    """What the post says (triage) and where (locate): no database, the same answer every time."""
    return analyze_many([post], env)[0]


def analyze_many(posts: Sequence[InboundPost], env: PipelineEnv) -> list[Analysis]:
    """analyze() of each post, their triage read as one batch (the same answers)."""
    texts = [_post_text(post) for post in posts]
    return analyze_posts(texts, gazetteer=env.gazetteer, services=env.services, remote=env.remote)


def _post_text(post: InboundPost) -> PostText:
    """A stored post as the analysis reads it: text, channel kind, geotag, private or not."""
    channel_kind = "reply" if (post.in_reply_to_id or post.kind == "reply") else post.kind
    geotag = (
        (post.geotag_lat, post.geotag_lon)
        if post.geotag_lat is not None and post.geotag_lon is not None
        else None
    )
    return PostText(post.text, channel_kind, geotag, is_private_post(post))
