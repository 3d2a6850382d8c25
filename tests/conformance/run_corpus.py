#!/usr/bin/python3
"""Conformance suite: run `syndic convert --to json` over the shared feed corpus.

Two checks, one report:

1. Robustness: every input file in the corpus is converted; a crash, a timeout,
   a sanitizer report or "exit 0 but stdout is not JSON" is a failure.
2. feedparser expectations: each file under corpus/feedparser/ carries a Python
   `Expect:` expression written against feedparser's result dictionary. Our JSON
   (docs/json-output.md) is mapped into that shape and the expression is evaluated.
   A case passes, fails, or is "n/a" when it needs something syndic deliberately
   does not model (see UNMAPPED below); n/a is never decided by accident.

Standard library only (Python 3.11). The Expect strings are eval()'d, exactly as
feedparser's own test runner does, so only point this at a trusted corpus.
Exit codes: 0 ok, 1 robustness failure or share below --min-share, 2 usage error,
77 corpus missing (CTest's skip code).
"""

from __future__ import annotations

import argparse
import ast
import builtins
import codecs
import concurrent.futures
import dataclasses
import datetime
import email.utils
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import validate_feed  # noqa: E402  (the independent RSS/Atom/JSON Feed validator beside us)

DEFAULT_CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
FEEDPARSER_FOLDERS = ("wellformed", "illformed", "encoding", "entities", "json")
# feedparser's test server; upstream serves every test whose path contains "http"
# from here and resolves relative URLs against it (tests/helpers.py).
TEST_SERVER = "http://127.0.0.1:8097/tests/"
SANITIZE_CATEGORY = "wellformed/sanitize"
# Categories reported but kept out of the headline share, each with the reason.
EXCLUDED_CATEGORIES = {
    SANITIZE_CATEGORY: "feedparser sanitizes HTML (drops script, style, event attributes...) "
                       "while syndic deliberately passes content through unmodified",
    "wellformed/cdf": "CDF (Microsoft's 1997 Channel Definition Format) is not one of the "
                      "syntaxes syndic reads (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, JSON Feed)",
}
SANITIZER_MARKERS = ("runtime error:", "AddressSanitizer", "LeakSanitizer")
# docs/json-output.md: these diagnostic codes mean "recovered", feedparser's bozo.
BOZO_CODES = {"xml", "entity", "encoding", "json"}
DIAGNOSTIC_RE = re.compile(r"\b(?:warning|error|fatal)\[([a-z]+)\]: ")  # with or without a position

# _syndic.format -> feedparser's `version`. syndic has one rss091 (feedparser splits
# it into Netscape 'rss091n' / UserLand 'rss091u'); we report the common UserLand one.
FORMAT_TO_VERSION = {
    "rss090": "rss090", "rss091": "rss091u", "rss092": "rss092", "rss093": "rss093",
    "rss094": "rss094", "rss20": "rss20", "rss10": "rss10", "atom03": "atom03",
    "atom10": "atom10", "json10": "json1", "json11": "json11",
}
TEXT_TYPES = {"text": "text/plain", "html": "text/html", "xhtml": "application/xhtml+xml"}
ITUNES_NAMESPACES = {  # feedparser accepts both, case-insensitively
    "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "http://example.com/dtds/podcast-1.0.dtd",
}
ITUNES_SCHEME = "http://www.itunes.com/"
LICENSE_NAMESPACES = {  # cc:license rdf:resource=..., creativeCommons:license text
    "http://web.resource.org/cc/",
    "http://backend.userland.com/creativecommonsrssmodule",
}

# ---------------------------------------------------------------------------
# What we deliberately do not map. A lookup that misses one of these keys makes
# the case n/a; a miss on any other key is a failure (syndic should have had it).
# Keys are per kind of dictionary, because e.g. `published` exists on entries but
# not on the feed, and `href` is a link attribute but also feedparser's HTTP URL.
# ---------------------------------------------------------------------------
_HTTP_RESULT = {"headers", "etag", "modified", "modified_parsed", "status", "href"}
_NOT_IN_MODEL = {  # feed/entry elements syndic's model has no place for
    "contributors", "publisher", "publisher_detail", "created", "created_parsed",
    "expired", "expired_parsed", "where", "cloud", "textinput", "docs",
    "errorreportsto", "info", "info_detail", "newlocation", "psc_chapters",
    "thr_in-reply-to", "wfw_comment", "wfw_commentrss", "validity_start",
    "validity_start_parsed", "validity_end", "validity_end_parsed",
    # feedparser stores arbitrary elements under their (prefixed) local name
    "abcdefg", "madeup_element",
}
UNMAPPED = {
    # the top level: HTTP response data (syndic reads files), the Python exception and
    # the namespace table (the detected encoding is _syndic.encoding)
    "top": _HTTP_RESULT | {"bozo_exception", "namespaces"},
    "feed": _NOT_IN_MODEL | {"published", "published_parsed"},
    "entry": _NOT_IN_MODEL | {"rights", "rights_detail", "copyright", "copyright_detail"},
    # xml:base / xml:lang in scope of one element: syndic resolves URLs itself and
    # keeps only the feed's and each item's language, so neither is exposed per
    # element; nor is `src` (Atom out-of-line content).
    "detail": {"base", "language"},
    "content": {"base", "language", "src"},
    # _syndic.rights is a bare string: its text type is not known either
    "untyped_detail": {"base", "language", "type"},
    "generator": {"href", "version", "uri", "url"},
    "image": {"width", "height", "description"},
    "media": {"fileSize", "filesize", "duration", "expression", "bitrate", "lang",
              "framerate", "samplingrate", "channels", "isdefault", "content"},
    # _syndic.source is {title, url, id}; feedparser's source is a whole feed
    "source": {"author", "author_detail", "authors", "contributors", "generator",
               "generator_detail", "icon", "logo", "rights", "rights_detail",
               "copyright", "copyright_detail", "subtitle", "subtitle_detail",
               "tagline", "tagline_detail", "description", "title_detail",
               "tags", "category", "updated", "updated_parsed", "links", "language"},
    "link": set(), "author": set(), "tag": set(),
}
# Namespaced keys feedparser builds from extension elements (prefix_localname).
# syndic passes those through in _syndic.extensions keyed by namespace URI, and
# only iTunes is mapped back below; media_thumbnail/media_content come from the model.
UNMAPPED_PREFIXES = ("media_", "wfw_", "thr_", "psc_", "georss_", "geo_", "gml_",
                     "dc_", "dcterms_", "sy_", "admin_", "cc_", "creativecommons_",
                     "feedburner_", "slash_")
MAPPED_PREFIXED = {"media_thumbnail", "media_content"}

# HTTP headers of a test that `syndic convert` has no option for (only the charset
# of Content-type and Content-Location are passed on): such cases are n/a.
UNPASSABLE_HEADERS = {"content-language", "etag", "last-modified", "x-foo"}
XML_MEDIA_TYPE_RE = re.compile(r"^(application|text)/([a-z0-9.+-]*\+)?xml(-[a-z-]+)?$|^application/xml-dtd$")


def is_unmapped(kind: str, key) -> bool:
    if not isinstance(key, str):
        return False
    if key in UNMAPPED.get(kind, ()):
        return True
    return (kind in ("feed", "entry") and key not in MAPPED_PREFIXED
            and key.startswith(UNMAPPED_PREFIXES))


# ---------------------------------------------------------------------------
# Running syndic
# ---------------------------------------------------------------------------
@dataclasses.dataclass
class Run:
    path: Path
    args: tuple[str, ...]
    returncode: int | None = None  # None: timed out
    stdout: str = ""
    stderr: str = ""

    @property
    def diagnostic_codes(self) -> set[str]:
        return {m.group(1) for m in DIAGNOSTIC_RE.finditer(self.stderr)}


def run_syndic(syndic: str, path: Path, args: tuple[str, ...], timeout: float,
               env: dict[str, str]) -> Run:
    cmd = [syndic, "convert", "--to", "json", *args, str(path)]
    run = Run(path, args)
    # Own process group, so a timeout also ends anything the run started.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return run
    run.returncode = proc.returncode
    run.stdout = stdout.decode("utf-8", "replace")
    run.stderr = stderr.decode("utf-8", "replace")
    return run


def robustness_problem(run: Run) -> str | None:
    """Why this run counts as a robustness failure, or None. Non-zero exit is fine."""
    if run.returncode is None:
        return "timeout"
    if run.returncode < 0:
        return f"killed by signal {-run.returncode}"
    for line in run.stderr.splitlines():
        if any(marker in line for marker in SANITIZER_MARKERS):
            return f"sanitizer: {line.strip()[:160]}"
    if run.returncode == 0:
        try:
            doc = json.loads(run.stdout)
        except ValueError as e:
            return f"exit 0 but stdout is not JSON ({e})"
        if not isinstance(doc, dict):
            return "exit 0 but stdout is not a JSON object"
    return None


# ---------------------------------------------------------------------------
# Corpus discovery
# ---------------------------------------------------------------------------
def is_golden(path: Path) -> bool:
    """Expected-output files of gofeed / feed-rs; they are not feeds."""
    name = path.name
    if name.endswith(".serde.json") or name.endswith("_expected.json"):
        return True
    if name.endswith(".json") and "gofeed" in path.parts:
        # gofeed: foo.json is the golden of foo.xml next to it
        return any(p != path and p.stem == path.stem for p in path.parent.iterdir())
    return False


def corpus_inputs(corpus: Path) -> list[Path]:
    files = []
    for path in sorted(corpus.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.name.startswith("LICENSE") or path.suffix == ".md" or is_golden(path):
            continue
        files.append(path)
    return files


# ---------------------------------------------------------------------------
# feedparser test cases
# ---------------------------------------------------------------------------
DESC_RE = re.compile(r"Description:\s*(.*?)\s*Expect:\s*(.*)\s*-->")  # upstream's regexes
SKIP_RE = re.compile(r"SkipUnless:\s*(.*?)\n")
HEADER_RE = re.compile(r"^Header:\s+([^:]+):(.*)$", re.MULTILINE)


@dataclasses.dataclass
class Case:
    path: Path
    rel: str  # relative to corpus/feedparser, e.g. "wellformed/rss/item_title.xml"
    description: str = ""
    expect: str = ""
    skip_unless: str = ""
    headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    args: tuple[str, ...] = ()
    na_reason: str = ""  # set when the case cannot be run faithfully at all

    @property
    def category(self) -> str:
        parts = self.rel.split("/")
        return "/".join(parts[:2]) if parts[0] == "wellformed" and len(parts) > 2 else parts[0]

    @property
    def is_http(self) -> bool:
        return "http" in self.rel  # upstream: `"http" in str(path)`


def decode_test_text(data: bytes) -> str:
    """The header comment is in the file's own encoding: detect UTF-16/32 by BOM or by
    the null pattern of '<?', as upstream's get_file_contents() does; else UTF-8."""
    patterns = [
        (b"\x00\x00\xfe\xff", "utf-32be", 4), (b"\xff\xfe\x00\x00", "utf-32le", 4),
        (b"\x00\x00\x00\x3c", "utf-32be", 0), (b"\x3c\x00\x00\x00", "utf-32le", 0),
        (b"\x00\x3c\x00\x3f", "utf-16be", 0), (b"\x3c\x00\x3f\x00", "utf-16le", 0),
        (b"\xfe\xff", "utf-16be", 2), (b"\xff\xfe", "utf-16le", 2),
        (codecs.BOM_UTF8, "utf-8", 3),
    ]
    for prefix, encoding, skip in patterns:
        if data.startswith(prefix):
            return data[skip:].decode(encoding, "ignore")
    return data.decode("utf-8", "ignore")


def parse_case(path: Path, root: Path) -> Case:
    case = Case(path, path.relative_to(root).as_posix())
    text = decode_test_text(path.read_bytes())
    if path.suffix == ".json":  # json/example.json keeps the header in "__TEST__"
        try:
            text = json.loads(text).get("__TEST__", text)
        except ValueError:
            pass
    match = DESC_RE.search(text)
    if not match:
        case.na_reason = "no Description/Expect header"
        return case
    case.description, case.expect = (s.strip() for s in match.groups())
    skip = SKIP_RE.search(text)
    case.skip_unless = skip.group(1).strip() if skip else ""
    case.headers = [(k.strip(), v.strip()) for k, v in HEADER_RE.findall(text)]
    case.args, case.na_reason = syndic_args(case)
    if not case.na_reason and case.skip_unless and not skip_condition_holds(case.skip_unless):
        case.na_reason = f"SkipUnless does not hold here: {case.skip_unless}"
    return case


class _FeedparserStub:
    """Enough of the `feedparser` module for the SkipUnless conditions."""
    ACCEPTABLE_URI_SCHEMES = ("http", "https")


def skip_condition_holds(condition: str) -> bool:
    """Upstream skips a case when its condition raises (codec or chardet missing)."""
    try:
        return bool(eval(condition, {"__builtins__": builtins, "feedparser": _FeedparserStub}))
    except Exception:
        return False


def charset_param(content_type: str) -> str | None:
    """charset of a Content-type value, tolerating spaces and quotes (`charset= "x"`)."""
    for param in content_type.split(";")[1:]:
        name, sep, value = param.partition("=")
        if sep and name.strip().lower() == "charset":
            return value.strip().strip("'\"") or None
    return None


def syndic_args(case: Case) -> tuple[tuple[str, ...], str]:
    """Turn the test's HTTP headers into `--charset`/`--base`, or say why we can't."""
    args: list[str] = []
    content_location = None
    for name, value in case.headers:
        lname = name.lower()
        if lname in UNPASSABLE_HEADERS:
            return (), f"needs HTTP header {name} (no syndic option for it)"
        if lname == "content-type":
            media_type = value.split(";")[0].strip().lower()
            if not XML_MEDIA_TYPE_RE.match(media_type):
                return (), f"needs HTTP media type {media_type} (only the charset is passed)"
            charset = charset_param(value)
            if charset:
                args += ["--charset", charset]
            elif media_type.startswith("text/"):
                # feedparser applies RFC 3023's us-ascii default for text/*; RFC 7303
                # dropped it and `convert` has no media-type option to express it.
                return (), f"needs RFC 3023 charset default of {media_type}"
        elif lname == "content-location":
            content_location = value
    if case.is_http:
        args += ["--base", http_base(case.rel, content_location)]
    return tuple(args), ""


def http_base(rel: str, content_location: str | None) -> str:
    """The base feedparser used: Content-Location resolved against the document URL,
    unless it is not an http(s) URL (feedparser drops unsafe ones)."""
    doc_url = TEST_SERVER + rel
    if content_location:
        resolved = urllib.parse.urljoin(doc_url, content_location)
        if urllib.parse.urlsplit(resolved).scheme in ("http", "https"):
            return resolved
    return doc_url


# ---------------------------------------------------------------------------
# Our JSON -> a feedparser-shaped result
# ---------------------------------------------------------------------------
_misses: list[tuple[str, object]] = []  # (kind, key) lookups that failed during one eval


class FPDict(dict):
    """A dict like feedparser's FeedParserDict: attribute access, key aliases,
    derived keys. Every failed lookup is recorded in _misses, so a failing case can
    be told apart from one that needs a key we deliberately don't map."""

    keymap = {  # feedparser.util.FeedParserDict.keymap
        "channel": "feed", "items": "entries", "guid": "id", "date": "updated",
        "date_parsed": "updated_parsed", "description": ["summary", "subtitle"],
        "description_detail": ["summary_detail", "subtitle_detail"], "url": ["href"],
        "modified": "updated", "modified_parsed": "updated_parsed",
        "issued": "published", "issued_parsed": "published_parsed",
        "copyright": "rights", "copyright_detail": "rights_detail",
        "tagline": "subtitle", "tagline_detail": "subtitle_detail",
    }

    def __init__(self, fp_kind: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._fp_kind = fp_kind

    def __getitem__(self, key):
        try:
            return self._lookup(key)
        except KeyError:
            _misses.append((self._fp_kind, key))
            raise

    def _lookup(self, key):
        has = lambda k: dict.__contains__(self, k)  # noqa: E731
        get = lambda k: dict.__getitem__(self, k)  # noqa: E731
        if key == "category":
            tags = get("tags")
            if not tags:
                raise KeyError(key)
            return tags[0]["term"]
        if key == "enclosures":
            return [FPDict("link", {k: v for k, v in link.items() if k != "rel"})
                    for link in get("links") if link.get("rel") == "enclosure"]
        if key == "license":
            for link in get("links"):
                if link.get("rel") == "license" and "href" in link:
                    return link["href"]
            raise KeyError(key)
        if key in ("updated", "updated_parsed") and not has(key):
            # feedparser 6 still falls back from updated to published (issue 310)
            fallback = key.replace("updated", "published")
            if has(fallback):
                return get(fallback)
        real = self.keymap.get(key, key) if isinstance(key, str) else key
        for k in (real if isinstance(real, list) else [real]):
            if has(k):
                return get(k)
        return get(key)

    def __contains__(self, key):
        try:
            self[key]
        except KeyError:
            return False
        return True

    has_key = __contains__  # Python 2 spelling used by a few Expect lines

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __getattr__(self, key):
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"object has no attribute '{key}'") from None


class DateText(str):
    """A date's text. syndic normalises to RFC 3339 while feedparser keeps the source
    text (often RFC 822), so equality with a string compares the instants."""

    def __eq__(self, other):
        if str.__eq__(self, other):
            return True
        if isinstance(other, str):
            mine, theirs = parse_date(self), parse_date(other)
            return mine is not None and mine == theirs
        return NotImplemented

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = str.__hash__


def parse_date(text: str) -> datetime.datetime | None:
    try:
        value = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            value = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


def put_date(target: FPDict, key: str, rfc3339: str | None) -> None:
    """`key` and `key_parsed` (a UTC time.struct_time, as feedparser gives)."""
    if not rfc3339:
        return
    target[key] = DateText(rfc3339)
    parsed = parse_date(rfc3339)
    if parsed is not None:
        target[key + "_parsed"] = parsed.astimezone(datetime.timezone.utc).utctimetuple()


def put_text(target: FPDict, key: str, value, text_type: str | None) -> None:
    """`key` plus `key_detail` {type, value}; no `language`/`base` (see UNMAPPED).
    text_type None: the model does not know it, so no `type` either."""
    if value is None:
        return
    target[key] = value
    if text_type is None:
        target[key + "_detail"] = FPDict("untyped_detail", value=value)
    else:
        target[key + "_detail"] = FPDict("detail", type=TEXT_TYPES.get(text_type, text_type),
                                         value=value)


def strings(d: dict, keys_map: dict[str, str]) -> dict:
    """Copy present members, renamed, as strings (feedparser keeps attribute text)."""
    out = {}
    for ours, theirs in keys_map.items():
        if d.get(ours) is not None:
            out[theirs] = d[ours] if isinstance(d[ours], str) else str(d[ours])
    return out


def make_link(link: dict) -> FPDict:
    out = FPDict("link", strings(link, {"rel": "rel", "type": "type", "href": "href",
                                        "title": "title", "length": "length",
                                        "hreflang": "hreflang"}))
    out.setdefault("rel", "alternate")
    if out["rel"] != "enclosure" and "type" not in out:
        # feedparser's _start_link defaults: self links are Atom, the rest HTML
        out["type"] = "application/atom+xml" if out["rel"] == "self" else "text/html"
    return out


def make_authors(target: FPDict, ext: dict, json_authors) -> None:
    """authors / author_detail / author, the way feedparser's _sync_author_detail does."""
    people = ext.get("authors") or json_authors or []
    authors = [FPDict("author", strings(p, {"name": "name", "email": "email", "url": "href"}))
               for p in people]
    authors = [a for a in authors if a]
    if not authors:
        return
    target["authors"] = authors
    first = authors[0]
    target["author_detail"] = first
    name, mail = first.get("name"), first.get("email")
    target["author"] = f"{name} ({mail})" if name and mail else (name or mail)


def make_tags(ext: dict, json_tags) -> list[FPDict]:
    if ext.get("categories"):
        return [FPDict("tag", term=c.get("term"), scheme=c.get("scheme"), label=c.get("label"))
                for c in ext["categories"]]
    return [FPDict("tag", term=t, scheme=None, label=None) for t in json_tags or []]


def apply_itunes(target: FPDict, extensions) -> None:
    """Pass-through iTunes elements -> feedparser's itunes_* keys, applying feedparser's
    own value conventions (block -> 0/1, explicit -> True/False/None, image/category/
    keywords/author/subtitle/summary -> the common keys)."""
    for ext in extensions or []:
        if str(ext.get("ns", "")).lower() not in ITUNES_NAMESPACES:
            continue
        name = str(ext.get("name", "")).lower()
        value = ext.get("value") or ""
        attrs = ext.get("attributes") or {}
        if name == "block":
            target["itunes_block"] = 1 if value in ("yes", "Yes") else 0
        elif name == "explicit":
            target["itunes_explicit"] = {"yes": True, "true": True, "explicit": True,
                                         "clean": False, "no": False, "false": False}.get(value)
        elif name in ("image", "link"):
            href = attrs.get("href") or attrs.get("url")
            if href:
                target["image"] = FPDict("image", href=href)
        elif name in ("category", "keywords"):
            add_itunes_tags(target, ext)
        elif name == "author":
            if "authors" not in target and value:
                make_authors(target, {}, [{"name": value}])
        elif name in ("subtitle", "summary"):
            if not dict.__contains__(target, name):
                put_text(target, name, value, "text")
        elif name not in ("owner", "name", "email"):  # owner is feedparser's publisher
            target["itunes_" + name] = value


def add_itunes_tags(target: FPDict, ext: dict) -> None:
    if str(ext.get("name", "")).lower() == "keywords":
        terms = [t.strip() for t in (ext.get("value") or "").split(",")]
    else:
        terms = [(ext.get("attributes") or {}).get("text")]
    tags = target.setdefault("tags", [])
    for term in filter(None, terms):
        tag = FPDict("tag", term=term, scheme=ITUNES_SCHEME, label=None)
        if tag not in tags:
            tags.append(tag)
    for child in ext.get("children") or []:  # nested itunes:category
        if str(child.get("name", "")).lower() == "category":
            add_itunes_tags(target, child)


def license_links(extensions) -> list[FPDict]:
    """Pass-through license elements -> links rel="license", as feedparser files them."""
    links = []
    for ext in extensions or []:
        if (str(ext.get("ns", "")).lower() in LICENSE_NAMESPACES
                and str(ext.get("name", "")).lower() == "license"):
            # attributes are keyed {namespace}name; rdf:resource carries the URL
            resource = [v for k, v in (ext.get("attributes") or {}).items() if k.endswith("resource")]
            href = (resource or [ext.get("value")])[0]
            links.append(FPDict("link", rel="license", **({"href": href} if href else {})))
    return links


def feed_links(doc: dict, ext: dict) -> list[FPDict]:
    """home page (alternate) and self link first, then _syndic.links; a link already
    listed in _syndic.links is not synthesised twice."""
    further = [make_link(link) for link in ext.get("links") or []]
    listed = {(link.get("rel"), link.get("href")) for link in further}
    links = []
    for rel, href in (("alternate", doc.get("home_page_url")), ("self", doc.get("feed_url"))):
        if href and (rel, href) not in listed:
            links.append(make_link({"rel": rel, "href": href}))
    return links + further + license_links(ext.get("extensions"))


def build_feed(doc: dict) -> FPDict:
    ext = doc.get("_syndic") or {}
    feed = FPDict("feed")
    language = doc.get("language")
    # JSON Feed's title is plain text; markup titles keep their raw value in _syndic.title
    put_text(feed, "title", ext.get("title", doc.get("title")), ext.get("title_type") or "text")
    put_text(feed, "subtitle", doc.get("description"), ext.get("description_type") or "text")
    if doc.get("home_page_url"):
        feed["link"] = doc["home_page_url"]
    links = feed_links(doc, ext)
    if links:
        feed["links"] = links
    if ext.get("id"):
        feed["id"] = ext["id"]
    put_date(feed, "updated", ext.get("updated"))
    make_authors(feed, ext, doc.get("authors"))
    if ext.get("rights") is not None:
        put_text(feed, "rights", ext["rights"], None)
    if ext.get("generator") is not None:
        feed["generator"] = ext["generator"]
        feed["generator_detail"] = FPDict("generator", name=ext["generator"])
    if doc.get("favicon"):
        feed["icon"] = doc["favicon"]
    if doc.get("icon") and str(ext.get("format", "")).startswith("atom"):
        feed["logo"] = doc["icon"]  # Atom <logo>; RSS <image> is `image` below
    image = ext.get("image")
    if not image and doc.get("icon") and not str(ext.get("format", "")).startswith("atom"):
        image = {"url": doc["icon"]}
    if image:
        feed["image"] = FPDict("image", strings(image, {"url": "href", "title": "title",
                                                        "link": "link"}))
    if language:
        feed["language"] = language
    tags = make_tags(ext, None)
    if tags:
        feed["tags"] = tags
    if ext.get("ttl_minutes") is not None:
        feed["ttl"] = str(ext["ttl_minutes"])
    apply_itunes(feed, ext.get("extensions"))
    return feed


def entry_links(item: dict, ext: dict) -> list[FPDict]:
    links = [make_link(link) for link in ext.get("links") or []]
    if not links and item.get("url"):
        links.append(make_link({"rel": "alternate", "href": item["url"]}))
    links += license_links(ext.get("extensions"))
    enclosures = {link.get("href") for link in links if link.get("rel") == "enclosure"}
    for att in item.get("attachments") or []:  # RSS <enclosure>, JSON attachments
        if att.get("url") and att["url"] not in enclosures:
            links.append(FPDict("link", rel="enclosure", **strings(
                att, {"url": "href", "mime_type": "type", "size_in_bytes": "length",
                      "title": "title"})))
    return links


def build_entry(item: dict, source_format: str) -> FPDict:
    ext = item.get("_syndic") or {}
    entry = FPDict("entry")
    if item.get("language"):
        entry["language"] = item["language"]
    # title and summary are plain text in JSON Feed; markup keeps its raw value in _syndic
    put_text(entry, "title", ext.get("title", item.get("title")), ext.get("title_type") or "text")
    put_text(entry, "summary", ext.get("summary", item.get("summary")),
             ext.get("summary_type") or "text")
    content_value, content_type = item.get("content_html"), ext.get("content_type") or "html"
    if content_value is None and item.get("content_text") is not None:
        content_value, content_type = item["content_text"], ext.get("content_type") or "text"
    if ext.get("content_is_summary") or content_value == "":
        # JSON Feed requires content: the summary (or "") stood in for an item without any
        content_value = None
    if content_value is not None:
        entry["content"] = [FPDict("content", type=TEXT_TYPES.get(content_type, content_type),
                                   value=content_value)]
        if "summary" not in entry:  # feedparser's _end_content copies content to summary
            put_text(entry, "summary", content_value, content_type)
    if item.get("id") is not None:
        entry["id"] = str(item["id"])
    if item.get("url"):
        entry["link"] = item["url"]
    links = entry_links(item, ext)
    if links:
        entry["links"] = links
    if item.get("id") is not None and source_format.startswith("rss") and source_format != "rss10":
        # feedparser: a permalink guid is the link unless the item has a <link> of its own
        entry["guidislink"] = bool(ext.get("id_is_permalink")) and item.get("url") in (None, item.get("id"))
    put_date(entry, "published", item.get("date_published"))
    put_date(entry, "updated", item.get("date_modified"))
    make_authors(entry, ext, item.get("authors"))
    tags = make_tags(ext, item.get("tags"))
    if tags:
        entry["tags"] = tags
    if ext.get("comments"):
        entry["comments"] = ext["comments"]
    media_keys = {"url": "url", "type": "type", "medium": "medium", "width": "width", "height": "height"}
    if ext.get("thumbnails"):
        entry["media_thumbnail"] = [FPDict("media", strings(t, media_keys)) for t in ext["thumbnails"]]
    if ext.get("media"):
        entry["media_content"] = [FPDict("media", strings(m, media_keys)) for m in ext["media"]]
    source = ext.get("source")
    if source:
        entry["source"] = FPDict("source", strings(source, {"title": "title", "id": "id",
                                                             "url": "link"}))
        if source.get("url"):
            entry["source"]["href"] = source["url"]  # RSS <source url=...>
    apply_itunes(entry, ext.get("extensions"))
    return entry


def build_env(run: Run) -> FPDict:
    """The feedparser-shaped result of one syndic run; `no feed` maps to feedparser's
    result for a non-feed: bozo, empty feed, no entries."""
    env = FPDict("top")
    doc = None
    if run.returncode == 0:
        try:
            doc = json.loads(run.stdout)
        except ValueError:
            doc = None
    if not isinstance(doc, dict):
        env.update(bozo=True, feed=FPDict("feed"), entries=[], version="")
        return env
    ext = doc.get("_syndic") or {}
    env["bozo"] = bool(run.diagnostic_codes & BOZO_CODES)
    env["feed"] = build_feed(doc)
    source_format = str(ext.get("format") or "")
    env["entries"] = [build_entry(item, source_format)
                      for item in doc.get("items") or []]
    env["version"] = FORMAT_TO_VERSION.get(ext.get("format"), ext.get("format") or "")
    if ext.get("encoding"):  # the charset the document was read in (docs/json-output.md)
        env["encoding"] = ext["encoding"]
    return env


# ---------------------------------------------------------------------------
# Evaluating one case
# ---------------------------------------------------------------------------
@dataclasses.dataclass
class Outcome:
    status: str  # "pass" | "fail" | "n/a"
    reason: str = ""
    actual: str = ""


# Which kind of dictionary a key leads to, for the static check below.
CHILD_KINDS = {
    "top": {"feed": "feed", "channel": "feed", "entries": "entry", "items": "entry"},
    "entry": {"source": "source"},
}
NESTED_KINDS = {  # the same under feed, entry and source
    "links": "link", "enclosures": "link", "authors": "author", "author_detail": "author",
    "tags": "tag", "image": "image", "generator_detail": "generator", "content": "content",
    "media_thumbnail": "media", "media_content": "media",
    "rights_detail": "untyped_detail", "copyright_detail": "untyped_detail",
}
DICT_METHODS = {"get", "has_key", "keys", "items", "values"}


def child_kind(kind: str, key: str) -> str | None:
    if key in CHILD_KINDS.get(kind, {}):
        return CHILD_KINDS[kind][key]
    if kind in ("feed", "entry", "source"):
        if key in NESTED_KINDS:
            return NESTED_KINDS[key]
        if key.endswith("_detail"):
            return "detail"
    return None


def access_path(node: ast.AST) -> list[str] | None:
    """The string keys an access chain walks from the top level, e.g.
    entries[0]['source'].get('title') -> ['entries', 'source', 'title']."""
    keys: list[str] = []
    while True:
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            if isinstance(node.slice.value, str):
                keys.append(node.slice.value)
            node = node.value  # an int index keeps the kind of the list's items
        elif isinstance(node, ast.Attribute):
            keys.append(node.attr)
            node = node.value
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("get", "has_key") and node.args
              and isinstance(node.args[0], ast.Constant)):
            keys.append(node.args[0].value)
            node = node.func.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "locals":
            return keys[::-1]
        elif isinstance(node, ast.Name):
            return [node.id] + keys[::-1]
        else:
            return None


def expression_paths(tree: ast.AST):
    for node in ast.walk(tree):
        if (isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant)
                and isinstance(node.ops[0], (ast.In, ast.NotIn))):  # 'key' in feed
            path = access_path(node.comparators[0])
            if path is not None:
                yield path + [node.left.value]
        path = access_path(node)
        if path:
            yield path


def unmapped_reason(tree: ast.AST, env: FPDict) -> str:
    """n/a reason from the expression itself: does any access chain in it reach a key
    we deliberately don't map? Static, so it also holds when `and` short-circuits
    before that part is evaluated (e.g. our bozo differs)."""
    for path in expression_paths(tree):
        kind = "top"
        for key in path:
            if not isinstance(key, str) or key in DICT_METHODS:
                break
            if is_unmapped(kind, key) and not (kind == "top" and dict.__contains__(env, key)):
                return f"unmapped {'name' if kind == 'top' else kind + ' key'}: {key}"
            kind = child_kind(kind, key)
            if kind is None:
                break
    return ""


def required_bozo(case: Case) -> bool | None:
    """Upstream runners assert bozo on top of Expect: False for wellformed/ (and the
    JSON test), True for illformed/ tests served over HTTP."""
    top = case.rel.split("/")[0]
    if top in ("wellformed", "json"):
        return False
    if top == "illformed" and case.is_http:
        return True
    return None


def evaluate(case: Case, env: FPDict) -> Outcome:
    if case.na_reason:
        return Outcome("n/a", case.na_reason)
    try:
        tree = ast.parse(case.expect, mode="eval")
    except SyntaxError as e:
        return Outcome("n/a", f"Expect does not parse: {e.msg}")
    static = unmapped_reason(tree, env)
    _misses.clear()
    error = None
    try:
        ok = bool(eval(compile(tree, case.rel, "eval"), {"__builtins__": builtins, "datetime": datetime}, env))
    except (KeyError, AttributeError, NameError, IndexError, TypeError, ValueError) as e:
        ok, error = False, e
    missed = [(kind, key) for kind, key in _misses if is_unmapped(kind, key)]
    if static:
        return Outcome("n/a", static)
    if missed:
        kind, key = missed[0]
        return Outcome("n/a", f"unmapped {'name' if kind == 'top' else kind + ' key'}: {key}")
    if error is not None:
        return Outcome("fail", f"{type(error).__name__}: {error}", describe_actual(tree, env))
    if not ok:
        return Outcome("fail", "expectation false", describe_actual(tree, env))
    want = required_bozo(case)
    if want is not None and env["bozo"] != want:
        return Outcome("fail", f"bozo is {env['bozo']}, the runner requires {want}")
    return Outcome("pass")


def describe_actual(tree: ast.Expression, env: FPDict, limit: int = 240) -> str:
    """Compact view of what the expression saw: the value of each compared operand."""
    operands = []
    body = tree.body
    parts = body.values if isinstance(body, ast.BoolOp) else [body]
    for part in parts:
        if isinstance(part, ast.UnaryOp) and isinstance(part.op, ast.Not):
            part = part.operand
        if isinstance(part, ast.Compare):
            part = part.left
        operands.append(part)
    shown = []
    for node in operands:
        source = ast.unparse(node)
        try:
            value = eval(compile(ast.Expression(node), "<actual>", "eval"),
                         {"__builtins__": builtins, "datetime": datetime}, env)
            text = repr(value)
        except Exception as e:  # the lookup that failed is the interesting part
            text = f"<{type(e).__name__}: {e}>"
        shown.append(f"{source} = {text[:120]}")
    return "; ".join(shown)[:limit]


# ---------------------------------------------------------------------------
# Render conformance: every feed syndic reads, written as RSS, Atom and JSON Feed, must pass
# validate_feed.py (written from the specs, sharing no code with the renderers).
# ---------------------------------------------------------------------------
RENDER_FORMATS = ("rss", "atom", "json")


def render_batch(syndic: str, paths: list[Path], to: str, timeout: float,
                 env: dict[str, str]) -> dict[Path, bytes | str]:
    """`convert --jsonl --to TO` over many inputs: each input's rendering as bytes, or a
    string saying why there is none. A batch that misbehaves is rerun one input at a time."""
    cmd = [syndic, "convert", "--quiet", "--to", to, "--jsonl", *map(str, paths)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)
    try:
        stdout, _ = proc.communicate(timeout=timeout * max(2, len(paths) // 4))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        stdout = b""
    lines = stdout.splitlines()
    if len(lines) != len(paths) and len(paths) > 1:
        out = {}
        for path in paths:
            out.update(render_batch(syndic, [path], to, timeout, env))
        return out
    if len(lines) != len(paths):
        return {paths[0]: "no output (crash or timeout)"}
    out: dict[Path, bytes | str] = {}
    for path, line in zip(paths, lines):
        try:
            rec = json.loads(line)
        except ValueError as e:
            # the record embeds JSON output as it is: a record that does not parse is a
            # JSON rendering that is not JSON
            out[path] = f"record is not JSON ({e})"
            continue
        feed = rec.get("feed")
        if rec.get("status") != 0 or feed is None:
            out[path] = "no feed"
        elif isinstance(feed, str):
            out[path] = feed.encode("utf-8", "surrogatepass")
        else:
            out[path] = json.dumps(feed, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return out


@dataclasses.dataclass
class RenderCheck:
    eligible: int = 0   # (input, format) pairs where syndic read a feed
    passed: int = 0
    failures: list[str] = dataclasses.field(default_factory=list)


def check_renders(syndic: str, inputs: list[Path], corpus: Path, workers: int, timeout: float,
                  env: dict[str, str], batch_size: int) -> RenderCheck:
    result = RenderCheck()
    batches = [(to, inputs[i:i + batch_size]) for to in RENDER_FORMATS
               for i in range(0, len(inputs), batch_size)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(render_batch, syndic, paths, to, timeout, env): to
                   for to, paths in batches}
        rendered: list[tuple[Path, str, bytes | str]] = []
        for future in concurrent.futures.as_completed(futures):
            to = futures[future]
            rendered += [(path, to, data) for path, data in future.result().items()]
    for path, to, data in sorted(rendered, key=lambda r: (str(r[0]), r[1])):
        if data == "no feed":
            continue
        result.eligible += 1
        where = f"{path.relative_to(corpus).as_posix()} as {to}"
        problems = ([f"{where}: {data}"] if isinstance(data, str)
                    else validate_feed.validate(data, where, to))
        if problems:
            result.failures += problems
        else:
            result.passed += 1
    return result


# ---------------------------------------------------------------------------
# Driver and report
# ---------------------------------------------------------------------------
def sanitizer_env(check: bool) -> dict[str, str]:
    env = dict(os.environ)
    if check:
        # keep the user's options, add ours after them
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "detect_leaks=1"]))
        env["UBSAN_OPTIONS"] = ":".join(filter(None, [env.get("UBSAN_OPTIONS"), "print_stacktrace=1"]))
    return env


def looks_instrumented(binary: Path) -> bool:
    data = binary.read_bytes()
    return any(marker in data for marker in (b"__asan_init", b"__ubsan_handle_", b"__msan_init"))


def run_batch(syndic: str, paths: list[Path], args: tuple[str, ...], timeout: float,
              env: dict[str, str]) -> dict[tuple[Path, tuple[str, ...]], Run] | None:
    """Many inputs in one `syndic convert --jsonl` process: one record per input, turned
    into the Run a process of its own would have given. None when the batch as a whole
    misbehaved (crash, sanitizer report, timeout, a record missing or malformed): the
    caller then runs each input alone, so that the culprit is named."""
    cmd = [syndic, "convert", "--to", "json", "--jsonl", *args, *map(str, paths)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout * max(2, len(paths) // 4))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None
    if proc.returncode not in (0, 1) or stderr.strip():
        return None
    lines = stdout.decode("utf-8", "replace").splitlines()
    if len(lines) != len(paths):
        return None
    runs = {}
    for path, line in zip(paths, lines):
        try:
            rec = json.loads(line)
        except ValueError:
            return None
        if not isinstance(rec, dict) or rec.get("input") != str(path):
            return None
        feed = rec.get("feed")
        # A record over the per-run limit counts as the timeout a run of its own would be.
        status = rec.get("status") if rec.get("ms", 0) <= timeout * 1000 else None
        runs[(path, args)] = Run(path, args, returncode=status,
                                 stdout=json.dumps(feed) if feed is not None else "",
                                 stderr="\n".join(rec.get("diagnostics", [])))
    return runs


def run_all(syndic: str, jobs: list[tuple[Path, tuple[str, ...]]], workers: int,
            timeout: float, env: dict[str, str],
            batch_size: int) -> dict[tuple[Path, tuple[str, ...]], Run]:
    """Runs every (input, args) job: in batches of `batch_size` inputs per process (process
    start dominates with sanitizers: 90 ms each), or one process per input when it is 1."""
    results = {}
    by_args: dict[tuple[str, ...], list[Path]] = {}
    for path, args in jobs:
        by_args.setdefault(args, []).append(path)
    batches = [(args, paths[i:i + batch_size]) for args, paths in by_args.items()
               for i in range(0, len(paths), batch_size)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        singles = []
        if batch_size > 1:
            futures = {pool.submit(run_batch, syndic, paths, args, timeout, env): (args, paths)
                       for args, paths in batches}
            for future in concurrent.futures.as_completed(futures):
                runs = future.result()
                if runs is None:
                    args, paths = futures[future]
                    singles += [(p, args) for p in paths]
                else:
                    results.update(runs)
        else:
            singles = list(jobs)
        futures = {pool.submit(run_syndic, syndic, path, args, timeout, env): (path, args)
                   for path, args in singles}
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            results[futures[future]] = future.result()
            if done % 500 == 0:
                print(f"  ... {done}/{len(futures)} single runs", file=sys.stderr, flush=True)
    return results


@dataclasses.dataclass
class Tally:
    passed: int = 0
    failed: int = 0
    na: int = 0

    def add(self, status: str) -> None:
        if status == "pass":
            self.passed += 1
        elif status == "fail":
            self.failed += 1
        else:
            self.na += 1

    @property
    def share(self) -> float | None:
        judged = self.passed + self.failed
        return self.passed / judged if judged else None


def fmt_share(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f}%"


def build_report(corpus, robust_total, robust_failures, cases, outcomes, min_share,
                 max_failures, renders: RenderCheck) -> tuple[list[str], float | None]:
    by_category: dict[str, Tally] = {}
    headline, sanitize = Tally(), Tally()
    na_reasons: dict[str, int] = {}
    for case, outcome in zip(cases, outcomes):
        by_category.setdefault(case.category, Tally()).add(outcome.status)
        (sanitize if case.category in EXCLUDED_CATEGORIES else headline).add(outcome.status)
        if outcome.status == "n/a":
            na_reasons[outcome.reason] = na_reasons.get(outcome.reason, 0) + 1
    lines = [f"# syndic conformance: {corpus}", ""]
    lines += ["## Robustness", "",
              f"{robust_total} corpus files converted (plus the feedparser cases run with "
              f"--charset/--base), {len(robust_failures)} failures "
              "(crash, timeout, sanitizer report, or exit 0 without JSON).", ""]
    for run, problem in robust_failures:
        args = " ".join(run.args)
        lines.append(f"- `{run.path.relative_to(corpus)}`{' ' + args if args else ''}: {problem}")
    lines += ["", "## Render conformance", "",
              f"**{renders.passed} / {renders.eligible}** renderings valid (pass / eligible): "
              "every corpus input syndic reads a feed from, written as RSS 2.0, Atom 1.0 and "
              "JSON Feed 1.1 and checked by validate_feed.py (well-formedness, required "
              "elements and members, Atom ids and dates, RFC 4287's author rule).", ""]
    lines += [f"- {problem}" for problem in renders.failures[:max_failures]]
    lines += ["", "## feedparser expectations", "",
              "| category | pass | fail | n/a | share |", "|---|---:|---:|---:|---:|"]
    for name in sorted(by_category):
        t = by_category[name]
        note = " (excluded from headline)" if name in EXCLUDED_CATEGORIES else ""
        lines.append(f"| {name}{note} | {t.passed} | {t.failed} | {t.na} | {fmt_share(t.share)} |")
    lines.append(f"| **headline** | {headline.passed} | {headline.failed} | {headline.na} | "
                 f"**{fmt_share(headline.share)}** (renders valid: {renders.passed} / "
                 f"{renders.eligible}) |")
    lines += ["",
              "Headline share = pass / (pass + fail) over every applicable case except these "
              "categories, reported but not counted:", ""] + [
              f"- `{name}/`: {why}." for name, why in EXCLUDED_CATEGORIES.items()] + [
              "", f"Minimum required: {100 * min_share:.1f}%.",
              "", "As upstream's runner does, `wellformed/` and `json/` cases also require "
              "bozo to be false (bozo = a diagnostic with code xml, entity, encoding or json, "
              "or no feed at all).", "", "### n/a reasons", ""]
    for reason, count in sorted(na_reasons.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"- {count} × {reason}")
    failing = [(c, o) for c, o in zip(cases, outcomes)
               if o.status == "fail" and c.category not in EXCLUDED_CATEGORIES]
    lines += ["", f"### Failing cases ({len(failing)} outside sanitize; first {max_failures})", ""]
    for case, outcome in failing[:max_failures]:
        lines += [f"- `{case.rel}` {' '.join(case.args)}".rstrip(),
                  f"  - Expect: `{case.expect[:300]}`",
                  f"  - {outcome.reason}" + (f"; actual: `{outcome.actual}`" if outcome.actual else "")]
    return lines, headline.share


def print_table(corpus, cases, outcomes, robust_total, robust_failures, headline_share,
                renders: RenderCheck) -> None:
    tallies: dict[str, Tally] = {}
    for case, outcome in zip(cases, outcomes):
        tallies.setdefault(case.category, Tally()).add(outcome.status)
    print(f"{'category':34} {'pass':>6} {'fail':>6} {'n/a':>6} {'share':>7}")
    for name in sorted(tallies):
        t = tallies[name]
        print(f"{name:34} {t.passed:6} {t.failed:6} {t.na:6} {fmt_share(t.share):>7}")
    print(f"headline share (excluding {', '.join(EXCLUDED_CATEGORIES)}): {fmt_share(headline_share)}; "
          f"renders valid (pass / eligible): {renders.passed} / {renders.eligible}")
    for problem in renders.failures[:40]:
        print(f"  {problem}")
    print(f"robustness: {robust_total} files, {len(robust_failures)} failures")
    for run, problem in robust_failures[:40]:
        print(f"  {' '.join([run.path.relative_to(corpus).as_posix(), *run.args])}: {problem}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--syndic", required=True, help="path to the syndic binary")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="corpus folder (default: ../shared/corpus beside the checkout)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel syndic runs (default 2)")
    parser.add_argument("--report", type=Path, help="write the Markdown report here")
    parser.add_argument("--min-share", type=float, default=0.95,
                        help="minimum headline pass share (default 0.95)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per run (default 10)")
    parser.add_argument("--batch", type=int, default=40,
                        help="inputs per syndic process (convert --jsonl); 1 runs each alone "
                             "(default 40; a batch that fails is rerun one input at a time)")
    parser.add_argument("--only", metavar="TEXT",
                        help="only files whose corpus-relative path contains TEXT (for iterating)")
    parser.add_argument("--max-failures", type=int, default=40,
                        help="failing cases listed in the report (default 40)")
    parser.add_argument("--sanitizer-check", action="store_true",
                        help="require a sanitizer-instrumented binary, enable leak detection "
                             "and allow 3x the timeout")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    opts = parse_args(argv)
    corpus = opts.corpus
    if not corpus.is_dir():
        print(f"corpus not found at {corpus}: skipping the conformance suite "
              "(clone ../shared beside the checkout to run it)")
        return 77
    syndic = Path(opts.syndic)
    if not (syndic.is_file() and os.access(syndic, os.X_OK)):
        print(f"syndic binary not found or not executable: {syndic}", file=sys.stderr)
        return 2
    timeout = opts.timeout
    if opts.sanitizer_check:
        if not looks_instrumented(syndic):
            print(f"--sanitizer-check: {syndic} has no ASan/UBSan/MSan runtime symbols; "
                  "build with -fsanitize=address,undefined", file=sys.stderr)
            return 2
        timeout *= 3  # instrumented builds are several times slower
    env = sanitizer_env(opts.sanitizer_check)
    corpus = corpus.resolve()
    started = time.monotonic()

    selected = lambda p: not opts.only or opts.only in p.relative_to(corpus).as_posix()  # noqa: E731
    inputs = [p for p in corpus_inputs(corpus) if selected(p)]
    fp_root = corpus / "feedparser"
    cases = [parse_case(p, fp_root) for folder in FEEDPARSER_FOLDERS
             for p in sorted((fp_root / folder).rglob("*")) if p.is_file() and selected(p)]
    # A case without --charset/--base shares its run with the robustness pass.
    jobs = list(dict.fromkeys([(p, ()) for p in inputs] +
                              [(c.path, c.args) for c in cases if not c.na_reason]))
    runs = run_all(str(syndic), jobs, max(1, opts.jobs), timeout, env, max(1, opts.batch))

    robust_failures = [(run, problem) for run in runs.values()
                       if (problem := robustness_problem(run))]
    robust_failures.sort(key=lambda rp: (str(rp[0].path), rp[0].args))
    outcomes = []
    for case in cases:
        run = runs.get((case.path, case.args))
        env_fp = build_env(run) if run else FPDict("top")
        outcome = evaluate(case, env_fp)
        if outcome.status == "fail" and outcome.reason.startswith("bozo") and run:
            outcome.actual = "diagnostics: " + (", ".join(sorted(run.diagnostic_codes)) or "none")
        outcomes.append(outcome)

    renders = check_renders(str(syndic), inputs, corpus, max(1, opts.jobs), timeout, env,
                            max(1, opts.batch))
    lines, headline = build_report(corpus, len(inputs), robust_failures, cases, outcomes,
                                   opts.min_share, opts.max_failures, renders)
    print_table(corpus, cases, outcomes, len(inputs), robust_failures, headline, renders)
    print(f"({len(runs)} runs in {time.monotonic() - started:.0f} s)")
    if opts.report:
        opts.report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # no judged case at all only happens when --only filtered feedparser/ out
    failed = (bool(robust_failures) or bool(renders.failures)
              or (headline is not None and headline < opts.min_share))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
