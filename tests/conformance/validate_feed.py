#!/usr/bin/python3
"""An independent validator for RSS 2.0, Atom 1.0 and JSON Feed 1.1 documents.

Written from the specifications, not from syndic's code (it shares nothing with the C++
renderers), to check what syndic writes:

- RSS 2.0: https://www.rssboard.org/rss-specification (plus the RSS Advisory Board's notes on
  the modules syndic writes: atom:link, content:encoded, dc, sy, Media RSS);
- Atom: RFC 4287 (and RFC 3339 dates, RFC 3987 IRIs);
- JSON Feed 1.1: https://jsonfeed.org/version/1.1 (RFC 8259 JSON).

XML documents must be well-formed and namespace-well-formed UTF-8 (expat, through
xml.etree), then have what the spec requires. Python 3.11 standard library only.

    validate_feed.py FILE...                      validate files (format from content)
    validate_feed.py --syndic BIN --inputs DIR... render each input as rss, atom and json
                                                  with `syndic convert` and validate each

Exit status: 0 when everything is valid, 1 otherwise, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import datetime
import email.utils
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ATOM = "http://www.w3.org/2005/Atom"
XHTML = "http://www.w3.org/1999/xhtml"
SY = "http://purl.org/rss/1.0/modules/syndication/"
A = "{%s}" % ATOM

# RFC 3987: the ASCII characters an IRI never holds (outside %HH escapes).
IRI_FORBIDDEN = set(chr(c) for c in range(0x21)) | set('"<>\\^`{|}\x7f')
SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
PCT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# RFC 3339 date-time as RFC 4287 3.3 restricts it (upper-case T and Z, seconds required).
RFC3339_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
SY_PERIODS = {"hourly", "daily", "weekly", "monthly", "yearly"}


def is_iri_reference(value: str) -> bool:
    if any(ch in IRI_FORBIDDEN for ch in value) or PCT_RE.search(value):
        return False
    # C1 controls are no ucschar either
    return not any(0x80 <= ord(ch) < 0xA0 for ch in value)


def is_absolute_iri(value: str) -> bool:
    return bool(SCHEME_RE.match(value)) and is_iri_reference(value)


def is_rfc3339(value: str) -> bool:
    if not RFC3339_RE.match(value):
        return False
    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_rfc822(value: str) -> bool:
    try:
        return email.utils.parsedate_to_datetime(value) is not None
    except (TypeError, ValueError, IndexError):
        return False


XML_SPACE = " \t\r\n"  # XML's whitespace; a no-break space is content


def text(el: ET.Element | None) -> str:
    return "".join(el.itertext()).strip(XML_SPACE) if el is not None else ""


class Report:
    def __init__(self, where: str):
        self.where = where
        self.problems: list[str] = []

    def fail(self, message: str) -> None:
        self.problems.append(f"{self.where}: {message}")


# ---------------------------------------------------------------------------
# Well-formedness
# ---------------------------------------------------------------------------
def parse_xml(data: bytes, report: Report) -> ET.Element | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        report.fail(f"not UTF-8: {e}")
        return None
    head = data[:100]
    if head.startswith(b"<?xml") and b"encoding=" in head.split(b"?>")[0]:
        declared = re.search(rb"encoding=[\"']([^\"']+)", head)
        if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
            report.fail(f"declares encoding {declared.group(1)!r} but is UTF-8")
    try:
        # expat with namespace processing: unbound prefixes and duplicate attributes
        # (by expanded name) are errors too.
        return ET.fromstring(data)
    except ET.ParseError as e:
        report.fail(f"not well-formed XML: {e}")
        return None


# ---------------------------------------------------------------------------
# RSS 2.0
# ---------------------------------------------------------------------------
def validate_rss(root: ET.Element, report: Report) -> None:
    if root.tag != "rss":
        report.fail(f"root element is {root.tag}, not rss")
        return
    if root.get("version") != "2.0":
        report.fail(f"rss version is {root.get('version')!r}, not 2.0")
    channels = root.findall("channel")
    if len(channels) != 1:
        report.fail(f"{len(channels)} channel elements (exactly one is required)")
        if not channels:
            return
    ch = channels[0]
    for name in ("title", "link", "description"):
        found = ch.findall(name)
        if len(found) != 1:
            report.fail(f"channel has {len(found)} <{name}> (exactly one is required)")
        elif not text(found[0]):
            report.fail(f"channel <{name}> is empty")
    for name in ("language", "copyright", "lastBuildDate", "pubDate", "ttl", "image", "generator", "docs"):
        if len(ch.findall(name)) > 1:
            report.fail(f"channel has more than one <{name}>")
    for name in ("pubDate", "lastBuildDate"):
        el = ch.find(name)
        if el is not None and not is_rfc822(text(el)):
            report.fail(f"channel <{name}> is no RFC 822 date: {text(el)!r}")
    ttl = ch.find("ttl")
    if ttl is not None and not text(ttl).isdigit():
        report.fail(f"<ttl> is not a number of minutes: {text(ttl)!r}")
    image = ch.find("image")
    if image is not None:
        for name in ("url", "title", "link"):
            if not text(image.find(name)):
                report.fail(f"<image> has no {name} (url, title and link are required)")
        for name, limit in (("width", 144), ("height", 400)):
            el = image.find(name)
            if el is not None and (not text(el).isdigit() or int(text(el)) > limit):
                report.fail(f"<image><{name}> is not a number up to {limit}: {text(el)!r}")
    period = ch.find(f"{{{SY}}}updatePeriod")
    if period is not None and text(period) not in SY_PERIODS:
        report.fail(f"sy:updatePeriod {text(period)!r} is not one of {sorted(SY_PERIODS)}")
    frequency = ch.find(f"{{{SY}}}updateFrequency")
    if frequency is not None and (not text(frequency).isdigit() or int(text(frequency)) < 1):
        report.fail(f"sy:updateFrequency {text(frequency)!r} is not a positive integer")
    for link in ch.iter(f"{A}link"):
        if not link.get("href"):
            report.fail("atom:link without href")
    for i, item in enumerate(ch.findall("item")):
        validate_rss_item(item, report, i)


def validate_rss_item(item: ET.Element, report: Report, i: int) -> None:
    where = f"item {i}"
    if not text(item.find("title")) and not text(item.find("description")):
        report.fail(f"{where}: neither title nor description (one is required)")
    for name in ("title", "link", "description", "guid", "pubDate", "source", "comments"):
        if len(item.findall(name)) > 1:
            report.fail(f"{where}: more than one <{name}>")
    for enclosure in item.findall("enclosure"):
        for attr in ("url", "length", "type"):
            if not enclosure.get(attr):
                report.fail(f"{where}: <enclosure> without {attr} (url, length and type are required)")
        if enclosure.get("length") and not enclosure.get("length").isdigit():
            report.fail(f"{where}: <enclosure length> is not a number: {enclosure.get('length')!r}")
    guid = item.find("guid")
    if guid is not None:
        permalink = guid.get("isPermaLink", "true")
        if permalink not in ("true", "false"):
            report.fail(f"{where}: guid isPermaLink is {permalink!r}")
        if not text(guid):
            report.fail(f"{where}: empty <guid>")
        elif permalink == "true" and not SCHEME_RE.match(text(guid)):
            report.fail(f"{where}: guid {text(guid)!r} is a permalink but no URL")
    source = item.find("source")
    if source is not None and not source.get("url"):
        report.fail(f"{where}: <source> without url (it is required)")
    pub = item.find("pubDate")
    if pub is not None and not is_rfc822(text(pub)):
        report.fail(f"{where}: <pubDate> is no RFC 822 date: {text(pub)!r}")
    for name in ("link", "comments"):
        el = item.find(name)
        if el is not None and not text(el):
            report.fail(f"{where}: empty <{name}>")
    for category in item.findall("category"):
        if category.get("domain") == "":
            report.fail(f"{where}: <category domain=\"\">")


# ---------------------------------------------------------------------------
# Atom 1.0 (RFC 4287)
# ---------------------------------------------------------------------------
def validate_text_construct(el: ET.Element, report: Report, where: str, content: bool = False) -> None:
    kind = el.get("type", "text")
    if not content and kind not in ("text", "html", "xhtml"):
        report.fail(f"{where}: type {kind!r} is not text, html or xhtml")
    if content and el.get("src") is not None:
        if len(el) or (el.text or "").strip(XML_SPACE):
            report.fail(f"{where}: content with src is not empty")
        if not is_iri_reference(el.get("src")):
            report.fail(f"{where}: src {el.get('src')!r} is no IRI reference")
        return
    if kind in ("text", "html") or (content and kind.startswith("text/")):
        if len(el):
            report.fail(f"{where}: type {kind} holds child elements (markup must be escaped)")
    elif kind == "xhtml":
        divs = list(el)
        stray = (el.text or "").strip(XML_SPACE) or any((c.tail or "").strip(XML_SPACE) for c in divs)
        if len(divs) != 1 or divs[0].tag != f"{{{XHTML}}}div" or stray:
            report.fail(f"{where}: xhtml content is not exactly one xhtml:div")
    elif content and "/" not in kind:
        report.fail(f"{where}: content type {kind!r} is no MIME type")


def validate_person(el: ET.Element, report: Report, where: str) -> None:
    names = el.findall(f"{A}name")
    if len(names) != 1:
        report.fail(f"{where}: {len(names)} atom:name (exactly one is required)")
    for name in ("uri", "email"):
        if len(el.findall(f"{A}{name}")) > 1:
            report.fail(f"{where}: more than one atom:{name}")
    uri = el.find(f"{A}uri")
    if uri is not None and not is_iri_reference(text(uri)):
        report.fail(f"{where}: atom:uri {text(uri)!r} is no IRI reference")
    mail = el.find(f"{A}email")
    if mail is not None and "@" not in text(mail):
        report.fail(f"{where}: atom:email {text(mail)!r} is no e-mail address")


def validate_links(parent: ET.Element, report: Report, where: str) -> bool:
    """Checks the atom:link children; returns whether one is rel=alternate."""
    alternates = set()
    for link in parent.findall(f"{A}link"):
        href = link.get("href")
        if href is None:
            report.fail(f"{where}: atom:link without href")
            continue
        if not is_iri_reference(href):
            report.fail(f"{where}: atom:link href {href!r} is no IRI reference")
        length = link.get("length")
        if length is not None and not length.isdigit():
            report.fail(f"{where}: atom:link length {length!r} is not a number")
        if link.get("rel", "alternate") == "alternate":
            key = (link.get("type"), link.get("hreflang"))
            if key in alternates:
                report.fail(f"{where}: two alternate links with type/hreflang {key}")
            alternates.add(key)
    return bool(alternates)


def validate_common(el: ET.Element, report: Report, where: str, required: tuple[str, ...],
                    single: tuple[str, ...]) -> None:
    for name in required:
        found = el.findall(f"{A}{name}")
        if len(found) != 1:
            report.fail(f"{where}: {len(found)} atom:{name} (exactly one is required)")
    for name in single:
        if len(el.findall(f"{A}{name}")) > 1:
            report.fail(f"{where}: more than one atom:{name}")
    for ident in el.findall(f"{A}id"):
        if not is_absolute_iri(text(ident)):
            report.fail(f"{where}: atom:id {text(ident)!r} is no absolute IRI")
    for name in ("updated", "published"):
        for date in el.findall(f"{A}{name}"):
            if not is_rfc3339(text(date)):
                report.fail(f"{where}: atom:{name} {text(date)!r} is no RFC 3339 date-time")
    for name in ("title", "subtitle", "summary", "rights"):
        for construct in el.findall(f"{A}{name}"):
            validate_text_construct(construct, report, f"{where} atom:{name}")
    for name in ("author", "contributor"):
        for person in el.findall(f"{A}{name}"):
            validate_person(person, report, f"{where} atom:{name}")
    for category in el.findall(f"{A}category"):
        if not category.get("term"):
            report.fail(f"{where}: atom:category without term")
    for name in ("icon", "logo"):
        for iri in el.findall(f"{A}{name}"):
            if not text(iri) or not is_iri_reference(text(iri)):
                report.fail(f"{where}: atom:{name} {text(iri)!r} is no IRI reference")


def validate_atom(root: ET.Element, report: Report) -> None:
    if root.tag != f"{A}feed":
        report.fail(f"root element is {root.tag}, not atom:feed")
        return
    validate_common(root, report, "feed", ("id", "title", "updated"),
                    ("subtitle", "rights", "icon", "logo", "generator"))
    validate_links(root, report, "feed")
    feed_author = root.find(f"{A}author") is not None
    for i, entry in enumerate(root.findall(f"{A}entry")):
        where = f"entry {i}"
        validate_common(entry, report, where, ("id", "title", "updated"),
                        ("published", "summary", "content", "rights", "source"))
        has_alternate = validate_links(entry, report, where)
        content = entry.find(f"{A}content")
        if content is not None:
            validate_text_construct(content, report, f"{where} atom:content", content=True)
        elif not has_alternate:
            report.fail(f"{where}: neither atom:content nor an alternate link (RFC 4287 4.1.1.1)")
        if content is not None and entry.find(f"{A}summary") is None:
            kind = content.get("type", "text")
            xml_like = kind in ("text", "html", "xhtml") or kind.startswith("text/") or \
                kind.endswith("+xml") or kind.endswith("/xml")
            if content.get("src") is not None or not xml_like:
                report.fail(f"{where}: content is out of line or base64 but there is no summary")
        source = entry.find(f"{A}source")
        source_author = source is not None and source.find(f"{A}author") is not None
        if source is not None:
            for ident in source.findall(f"{A}id"):
                if not is_absolute_iri(text(ident)):
                    report.fail(f"{where}: atom:source id {text(ident)!r} is no absolute IRI")
            validate_links(source, report, f"{where} atom:source")
        if not feed_author and not source_author and entry.find(f"{A}author") is None:
            report.fail(f"{where}: no atom:author, and the feed has none (RFC 4287 4.1.1)")


# ---------------------------------------------------------------------------
# JSON Feed 1.1
# ---------------------------------------------------------------------------
FEED_KEYS = {"version", "title", "home_page_url", "feed_url", "description", "user_comment",
             "next_url", "icon", "favicon", "author", "authors", "language", "expired", "hubs",
             "items"}
ITEM_KEYS = {"id", "url", "external_url", "title", "content_html", "content_text", "summary",
             "image", "banner_image", "date_published", "date_modified", "author", "authors",
             "tags", "language", "attachments"}


def reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def validate_json(data: bytes, report: Report) -> None:
    try:
        doc = json.loads(data.decode("utf-8"), parse_constant=reject_constant)
    except (UnicodeDecodeError, ValueError) as e:
        report.fail(f"not JSON: {e}")
        return
    if not isinstance(doc, dict):
        report.fail("top level is not an object")
        return
    if doc.get("version") != "https://jsonfeed.org/version/1.1":
        report.fail(f"version is {doc.get('version')!r}")
    if not isinstance(doc.get("title"), str):
        report.fail("no title string (required)")
    for key in doc:
        if key not in FEED_KEYS and not key.startswith("_"):
            report.fail(f"unknown top-level member {key!r} (extensions start with '_')")
    for key in ("home_page_url", "feed_url", "description", "next_url", "icon", "favicon", "language"):
        if key in doc and not isinstance(doc[key], str):
            report.fail(f"{key} is not a string")
    validate_authors(doc, report, "feed")
    for hub in doc.get("hubs", []):
        if not (isinstance(hub, dict) and isinstance(hub.get("type"), str) and isinstance(hub.get("url"), str)):
            report.fail(f"hub {hub!r} lacks type or url")
    items = doc.get("items")
    if not isinstance(items, list):
        report.fail("no items array (required)")
        return
    for i, item in enumerate(items):
        validate_json_item(item, report, f"item {i}")


def validate_authors(obj: dict, report: Report, where: str) -> None:
    authors = obj.get("authors", [])
    if not isinstance(authors, list):
        report.fail(f"{where}: authors is not an array")
        return
    for author in authors:
        if not isinstance(author, dict) or not any(
                isinstance(author.get(k), str) and author[k] for k in ("name", "url", "avatar")):
            report.fail(f"{where}: author {author!r} has no name, url or avatar")


def validate_json_item(item, report: Report, where: str) -> None:
    if not isinstance(item, dict):
        report.fail(f"{where}: not an object")
        return
    ident = item.get("id")
    if not isinstance(ident, str) or not ident:
        report.fail(f"{where}: id {ident!r} is no non-empty string (required)")
    if not isinstance(item.get("content_html"), str) and not isinstance(item.get("content_text"), str):
        report.fail(f"{where}: neither content_html nor content_text (one is required)")
    for key in item:
        if key not in ITEM_KEYS and not key.startswith("_"):
            report.fail(f"{where}: unknown member {key!r}")
    for key in ("url", "external_url", "title", "content_html", "content_text", "summary", "image",
                "banner_image", "language"):
        if key in item and not isinstance(item[key], str):
            report.fail(f"{where}: {key} is not a string")
    for key in ("date_published", "date_modified"):
        if key in item and not (isinstance(item[key], str) and is_rfc3339(item[key])):
            report.fail(f"{where}: {key} {item[key]!r} is no RFC 3339 date")
    tags = item.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        report.fail(f"{where}: tags is not an array of strings")
    validate_authors(item, report, where)
    for att in item.get("attachments", []):
        if not (isinstance(att, dict) and isinstance(att.get("url"), str) and att["url"]
                and isinstance(att.get("mime_type"), str) and att["mime_type"]):
            report.fail(f"{where}: attachment {att!r} lacks url or mime_type (both required)")


# ---------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------
def sniff(data: bytes) -> str:
    head = data.lstrip()[:512]
    if head.startswith(b"{"):
        return "json"
    return "atom" if re.search(rb"<feed[\s>]", head) else "rss"


def validate(data: bytes, where: str, kind: str | None = None) -> list[str]:
    """Problems with one document (empty when valid). kind: rss, atom, json or None (sniff)."""
    report = Report(where)
    kind = kind or sniff(data)
    if kind == "json":
        validate_json(data, report)
    else:
        root = parse_xml(data, report)
        if root is not None:
            (validate_rss if kind == "rss" else validate_atom)(root, report)
    return report.problems


def render(syndic: str, path: Path, to: str) -> tuple[bytes | None, str]:
    run = subprocess.run([syndic, "convert", "--quiet", "--to", to, str(path)],
                         capture_output=True, timeout=60)
    if run.returncode != 0:
        return None, run.stderr.decode("utf-8", "replace")[:300]
    return run.stdout, ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="documents to validate")
    parser.add_argument("--syndic", help="render --inputs with this binary and validate that")
    parser.add_argument("--inputs", nargs="*", type=Path, default=[],
                        help="feeds (or folders of feeds) to render as rss, atom and json")
    opts = parser.parse_args(argv)
    if not opts.files and not (opts.syndic and opts.inputs):
        parser.print_usage(sys.stderr)
        return 2
    problems: list[str] = []
    checked = 0
    for path in opts.files:
        problems += validate(path.read_bytes(), str(path))
        checked += 1
    inputs = [p for d in opts.inputs for p in (sorted(d.iterdir()) if d.is_dir() else [d])
              if p.is_file() and not p.name.startswith(".") and p.suffix != ".md"]
    for path in inputs:
        for to in ("rss", "atom", "json"):
            data, error = render(opts.syndic, path, to)
            if data is None:
                # an input that holds no feed has nothing to render; anything else is a failure
                if "no feed could be read" not in error:
                    problems.append(f"{path.name} as {to}: syndic convert failed: {error}")
                continue
            problems += validate(data, f"{path.name} as {to}", to)
            checked += 1
    for line in problems:
        print(line)
    print(f"validate_feed: {checked} documents, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
