"""A generic schemaless XML writer (Spark convention): dicts become elements, lists repeat a child tag."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET

DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _fill(element: ET.Element, value: Any, item_tags: Mapping[str, str]) -> None:
    if isinstance(value, Mapping):
        for key, child_value in value.items():
            child = ET.SubElement(element, str(key))
            _fill(child, child_value, item_tags)
    elif isinstance(value, list | tuple):
        # The Spark convention: a plural wrapper holds one singular child per item.
        tag = item_tags.get(element.tag, "item")
        for item in value:
            child = ET.SubElement(element, tag)
            _fill(child, item, item_tags)
    else:
        element.text = _text(value)


def render(root: str, value: Any, item_tags: Mapping[str, str]) -> bytes:
    """The document `<root>` for `value`, UTF-8, with the XML declaration the spec requires first."""
    element = ET.Element(root)
    _fill(element, value, item_tags)
    # ElementTree escapes text itself: user data is never concatenated into markup.
    return DECLARATION + ET.tostring(element, encoding="utf-8", xml_declaration=False)
