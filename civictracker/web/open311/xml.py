"""A generic schemaless XML writer (Spark convention): dicts become elements, lists repeat a child tag."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET

DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'
# Characters XML 1.0 cannot carry at all, not even as &#...; references (C0 controls but tab/LF/CR,
# lone surrogates, U+FFFE/U+FFFF): a stray one from a post would make the whole document unparsable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _escape(text: str) -> str:
    # Text content needs only &, < and > escaped (what ElementTree does); the `in` checks keep the common
    # case (nothing to escape) free of copies.
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if not text.isprintable():  # cheap C check; the regex runs only for text with newlines or controls
        text = _NOT_XML.sub("\ufffd", text)
    return text


def _write(out: list[str], tag: str, value: Any, item_tags: Mapping[str, str]) -> None:
    if isinstance(value, Mapping):
        if not value:
            out.append(f"<{tag} />")
            return
        out.append(f"<{tag}>")
        for key, child in value.items():
            # The common leaves inlined (a 1,000-request page has ~20,000); same text as _text() gives.
            kind = type(child)
            if kind is str:
                out.append(f"<{key}>{_escape(child)}</{key}>" if child else f"<{key} />")
            elif kind is float:
                out.append(f"<{key}>{child!r}</{key}>")
            elif child is None:
                out.append(f"<{key} />")
            else:
                _write(out, str(key), child, item_tags)
        out.append(f"</{tag}>")
    elif isinstance(value, list | tuple):
        if not value:
            out.append(f"<{tag} />")
            return
        # The Spark convention: a plural wrapper holds one singular child per item.
        item = item_tags.get(tag, "item")
        out.append(f"<{tag}>")
        for child in value:
            _write(out, item, child, item_tags)
        out.append(f"</{tag}>")
    else:
        text = _text(value)
        out.append(f"<{tag}>{_escape(text)}</{tag}>" if text else f"<{tag} />")


def render(root: str, value: Any, item_tags: Mapping[str, str]) -> bytes:
    """The document `<root>` for `value`, UTF-8, with the XML declaration the spec requires first.

    Built as one string, not an ElementTree: tree building and ElementTree's per-element writes cost
    ~100 ms for 1,000 requests. The bytes equal ElementTree's (`render_etree`) for every XML-legal input;
    user data is always escaped, never concatenated raw into markup; tags are our own field names.
    """
    out: list[str] = []
    _write(out, root, value, item_tags)
    return DECLARATION + "".join(out).encode("utf-8")


def _fill(element: ET.Element, value: Any, item_tags: Mapping[str, str]) -> None:
    if isinstance(value, Mapping):
        for key, child_value in value.items():
            child = ET.SubElement(element, str(key))
            _fill(child, child_value, item_tags)
    elif isinstance(value, list | tuple):
        tag = item_tags.get(element.tag, "item")
        for item in value:
            child = ET.SubElement(element, tag)
            _fill(child, item, item_tags)
    else:
        element.text = _text(value)


def render_etree(root: str, value: Any, item_tags: Mapping[str, str]) -> bytes:
    """The reference writer (ElementTree, slow): tests check `render` produces the same bytes."""
    element = ET.Element(root)
    _fill(element, value, item_tags)
    return DECLARATION + ET.tostring(element, encoding="utf-8", xml_declaration=False)
