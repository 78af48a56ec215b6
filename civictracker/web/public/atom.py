"""An Atom 1.0 (RFC 4287) document from plain data: ids, times, links, text; escaped by ElementTree."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

NS = "http://www.w3.org/2005/Atom"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
# XML 1.0 cannot carry these at all, not even as references: one in a note would break the whole feed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# RFC 4151 tag URIs name an authority and a date it held it; the date is fixed so ids never change.
TAG_DATE = "2026"


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    updated: dt.datetime
    link: str  # the page the entry is about (rel="alternate", HTML)
    summary: str
    published: dt.datetime | None = None
    category: str | None = None  # a term (a service code) and its label
    category_label: str | None = None


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    updated: dt.datetime
    self_url: str  # this feed's own address
    page_url: str  # the HTML page it follows
    author: str
    subtitle: str = ""
    entries: list[Entry] = field(default_factory=list)


def tag_uri(base_url: str, specific: str) -> str:
    """A permanent id under the site's host: tag:311.example.gov,2026:ticket-12/event-40."""
    host = urlsplit(base_url).hostname or "localhost"
    return f"tag:{host},{TAG_DATE}:{specific}"


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _stamp(value: dt.datetime) -> str:
    if value.tzinfo is None:  # stored times are UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.replace(microsecond=0).isoformat()


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{NS}}}{tag}", attrs)
    if text is not None:
        el.text = _clean(text)
    return el


def render_feed(feed: Feed) -> bytes:
    """The feed as UTF-8 XML with its declaration."""
    ET.register_namespace("", NS)
    root = ET.Element(f"{{{NS}}}feed", {"xml:lang": "en"})
    _sub(root, "id", feed.id)
    _sub(root, "title", feed.title)
    if feed.subtitle:
        _sub(root, "subtitle", feed.subtitle)
    _sub(root, "updated", _stamp(feed.updated))
    _sub(root, "link", rel="self", type="application/atom+xml", href=feed.self_url)
    _sub(root, "link", rel="alternate", type="text/html", href=feed.page_url)
    author = _sub(root, "author")
    _sub(author, "name", feed.author)
    _sub(root, "generator", "civictracker")
    for entry in feed.entries:
        el = _sub(root, "entry")
        _sub(el, "id", entry.id)
        _sub(el, "title", entry.title)
        _sub(el, "updated", _stamp(entry.updated))
        if entry.published is not None:
            _sub(el, "published", _stamp(entry.published))
        _sub(el, "link", rel="alternate", type="text/html", href=entry.link)
        if entry.category:
            _sub(el, "category", term=_clean(entry.category), label=_clean(entry.category_label or ""))
        _sub(el, "summary", entry.summary, type="text")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
