#!/usr/bin/env python3
"""The sources' admin API (/v1/sources) on a real daemon: a feed server in this process on
127.0.0.1 (it records the headers of every request), `syndic sink` playing one outlet, a
sources CSV with a file:// source.

Checks: a source added by POST is polled with its headers and its items reach the outlet;
header values and URL passwords are never shown; a PUT that sends "<redacted>" back keeps the
header's value; POST .../poll polls now; a taken id is 409, sources from the file are 409 on
PUT and DELETE; bad bodies are 400s naming the key without quoting secrets; the token is
required; API sources survive a restart without republishing; DELETE removes one for good;
without allow_private_targets a loopback URL is refused (403).

usage: sources_api_test.py SYNDIC"""

import http.server
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon_lib import Checks, Daemon, Sink, tempdir, wait_for  # noqa: E402

SECRET = "apisecret-7f3a9c"
URL_PASSWORD = "urlpw-55e1"


def rss(title, items):
    body = "".join(
        f"<item><title>{t}</title><link>https://example.com/{g}</link><guid>{g}</guid>"
        f"<description>Body of {t}</description></item>" for g, t in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>https://example.com/</link><description>d</description>{body}</channel></rss>")


class FeedServer:
    """Serves /feed.xml (and /other.xml); remembers each request's path and headers."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        self.feeds = {"/feed.xml": rss("API", [("api-1", "One"), ("api-2", "Two")]),
                      "/other.xml": rss("Other", [("o-1", "Other one")])}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                with outer.lock:
                    outer.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                body = outer.feeds.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def seen(self, path):
        with self.lock:
            return [h for p, h in self.requests if p == path]

    def stop(self):
        self.httpd.shutdown()


def main():
    syndic = sys.argv[1]
    check = Checks()
    with tempdir() as tmp:
        feeds = FeedServer()
        sink = Sink(syndic, tmp)
        outlets = os.path.join(tmp, "outlets.csv")
        with open(outlets, "w") as f:
            f.write("id,url,format\n")
            f.write(f"all,http://127.0.0.1:{sink.port}/all,webhook\n")
        with open(os.path.join(tmp, "local.xml"), "w") as f:
            f.write(rss("Local", [("l-1", "Local one")]))
        sources = os.path.join(tmp, "sources.csv")
        with open(sources, "w") as f:
            f.write("id,url,min_interval,max_interval,headers\n")
            f.write(f"filesrc,file://{tmp}/local.xml,1,2,X-File-Key: filesecret-1\n")
        base = f"http://127.0.0.1:{feeds.port}"
        d = Daemon(syndic, tmp, outlets, ["--sources", sources, "--poll-host-gap-ms", "0",
                                          "--poll-start-spread-s", "0", "--allow-private-targets"])
        d.start()

        def get(path):
            status, _, body = d.request("GET", path)
            return status, body

        # The file's source is listed, its header value hidden.
        status, body = get("/v1/sources")
        listed = json.loads(body) if status == 200 else {}
        ids = [s["id"] for s in listed.get("sources", [])]
        check(status == 200 and ids == ["filesrc"], f"GET /v1/sources lists the file's source: {status} {body[:300]!r}")
        check(b"filesecret" not in body, "a file source's header value is not shown")
        if ids:
            src = listed["sources"][0]
            check(src["origin"].endswith("sources.csv:2"), f"origin names the file and line: {src['origin']}")
            check(src["headers"] == {"X-File-Key": "<redacted>"}, f"header names only: {src['headers']}")

        # POST: a new source, polled with its header; its items reach the outlet.
        new = {"id": "api1", "url": f"http://user:{URL_PASSWORD}@127.0.0.1:{feeds.port}/feed.xml",
               "channel": "wire", "tags": ["lang:en", "business"], "min_interval": 1, "max_interval": "2s",
               "headers": {"X-Api-Key": SECRET}}
        status, _, body = d.request("POST", "/v1/sources", json.dumps(new))
        check(status == 201, f"POST /v1/sources: 201, got {status} {body[:300]!r}")
        check(SECRET.encode() not in body and URL_PASSWORD.encode() not in body,
              f"the answer shows no secret: {body[:400]!r}")
        wait_for(lambda: feeds.seen("/feed.xml"), 20, "the new source's first fetch")
        first = feeds.seen("/feed.xml")[0]
        check(first.get("x-api-key") == SECRET, f"the source's header is sent: {first}")
        check(first.get("authorization", "").startswith("Basic "), f"the URL's user and password are sent: {first}")
        # filesrc (1 item) + api1 (2 items) to the one outlet.
        wait_for(lambda: sink.distinct() >= 3, 30, "the items at the outlet")

        status, body = get("/v1/sources/api1")
        check(status == 200, f"GET /v1/sources/api1: {status}")
        if status == 200:
            s = json.loads(body)
            check(s["new_items"] == 2 and s["polls"] >= 1 and s["origin"] == "api",
                  f"api1's state: {body[:600]!r}")
            check(s["headers"] == {"X-Api-Key": "<redacted>"}, f"api1's header redacted: {s['headers']}")
            check(f"user:{URL_PASSWORD}" not in s["url"] and "***@" in s["url"], f"URL password hidden: {s['url']}")
        status, body = get("/v1/sources")
        check(SECRET.encode() not in body and URL_PASSWORD.encode() not in body, "the list shows no secret")

        # Conflicts.
        status, _, body = d.request("POST", "/v1/sources", json.dumps(new))
        check(status == 409, f"POST of a taken id: 409, got {status} {body[:200]!r}")
        status, _, body = d.request("PUT", "/v1/sources/filesrc", json.dumps({"url": base + "/other.xml"}))
        check(status == 409 and b"sources.csv:2" in body, f"PUT of a file's source: 409, got {status} {body[:200]!r}")
        status, _, body = d.request("DELETE", "/v1/sources/filesrc")
        check(status == 409, f"DELETE of a file's source: 409, got {status} {body[:200]!r}")

        # PUT with "<redacted>" sent back: the value is kept (the feed server sees it).
        changed = dict(new, url=f"{base}/other.xml", headers={"X-Api-Key": "<redacted>"})
        del changed["id"]
        status, _, body = d.request("PUT", "/v1/sources/api1", json.dumps(changed))
        check(status == 200, f"PUT /v1/sources/api1: 200, got {status} {body[:300]!r}")
        wait_for(lambda: feeds.seen("/other.xml"), 20, "the moved source's fetch")
        check(feeds.seen("/other.xml")[0].get("x-api-key") == SECRET,
              f"the kept header value is sent: {feeds.seen('/other.xml')[0]}")
        wait_for(lambda: sink.distinct() >= 4, 20, "the other feed's item at the outlet")
        status, _, body = d.request("PUT", "/v1/sources/api1",
                                    json.dumps(dict(changed, headers={"X-Other": "<redacted>"})))
        check(status == 400 and b"X-Other" in body, f"<redacted> for a header it lacks: 400, got {status} {body[:200]!r}")

        # POST .../poll: a fetch soon (the source's interval is at least 1 s, so wait for a
        # request beyond those already seen).
        before = len(feeds.seen("/other.xml"))
        status, _, body = d.request("POST", "/v1/sources/api1/poll")
        check(status == 202, f"POST /v1/sources/api1/poll: 202, got {status} {body[:200]!r}")
        wait_for(lambda: len(feeds.seen("/other.xml")) > before, 10, "the poll asked for")
        status, _, _ = d.request("POST", "/v1/sources/nope/poll")
        check(status == 404, f"poll of an unknown source: 404, got {status}")

        # Bad bodies: 400s that name the key and quote no secret.
        bad = [
            ("not json", b"not valid JSON"),
            (json.dumps({"id": "x", "url": f"file://{tmp}/local.xml"}), b"file://"),
            (json.dumps({"id": "x", "url": base + "/feed.xml", "colour": 1}), b"key 'colour'"),
            (json.dumps({"id": "x", "url": base + "/feed.xml", "headers": {"Host": "evil"}}), b"'Host'"),
            (json.dumps({"id": "x", "url": base + "/feed.xml", "headers": {"X-K": SECRET + "\r\nX-Evil: 1"}}),
             b"line break"),
            (json.dumps({"id": "x", "url": base + "/feed.xml", "min_interval": 0}), b"key 'min_interval'"),
            (json.dumps({"id": "x", "url": base + "/feed.xml", "min_interval": 60, "max_interval": 10}),
             b"above max_interval"),
            (json.dumps({"id": "x y", "url": base + "/feed.xml"}), b"key 'id'"),
            (json.dumps({"id": "x", "url": f"ftp://user:{URL_PASSWORD}@h/f"}), b"scheme"),
        ]
        for text, expect in bad:
            status, _, body = d.request("POST", "/v1/sources", text)
            check(status == 400 and expect in body, f"bad body {text[:80]!r}: 400 with {expect!r}, got {status} {body[:300]!r}")
            check(SECRET.encode() not in body and URL_PASSWORD.encode() not in body, f"no secret quoted: {body[:300]!r}")
        status, _, _ = d.request("GET", "/v1/sources", token=None)
        check(status == 401, f"no token: 401, got {status}")
        status, _, _ = d.request("PATCH", "/v1/sources/api1")
        check(status == 405, f"PATCH: 405, got {status}")

        # A restart keeps the API source (with its header) and republishes nothing.
        delivered = sink.distinct()
        check(d.terminate() == 0, "SIGTERM: exit 0")
        fetched = len(feeds.seen("/other.xml"))
        d.start()
        status, body = get("/v1/sources/api1")
        check(status == 200 and json.loads(body).get("origin") == "api", f"api1 after a restart: {status} {body[:300]!r}")
        wait_for(lambda: len(feeds.seen("/other.xml")) > fetched, 20, "api1 polled after the restart")
        check(feeds.seen("/other.xml")[-1].get("x-api-key") == SECRET, "its header survives the restart")
        time.sleep(1.5)
        check(sink.distinct() == delivered and sink.stats()["duplicates"] == 0,
              f"nothing republished after the restart: {delivered} before, {sink.stats()}")

        # DELETE, for good.
        status, _, _ = d.request("DELETE", "/v1/sources/api1")
        check(status == 204, f"DELETE /v1/sources/api1: 204, got {status}")
        status, _ = get("/v1/sources/api1")
        check(status == 404, f"GET after DELETE: 404, got {status}")
        status, _, _ = d.request("DELETE", "/v1/sources/api1")
        check(status == 404, f"DELETE again: 404, got {status}")

        # Without allow_private_targets: loopback refused; the deleted source stays deleted.
        check(d.terminate() == 0, "SIGTERM: exit 0")
        d.extra.remove("--allow-private-targets")
        d.start()
        status, _ = get("/v1/sources/api1")
        check(status == 404, f"a deleted source does not come back at start: {status}")
        for url in (base + "/feed.xml", "http://localhost/feed", "http://[::ffff:127.0.0.1]/f", "http://169.254.169.254/"):
            status, _, body = d.request("POST", "/v1/sources", json.dumps({"id": "ssrf", "url": url}))
            check(status == 403, f"SSRF {url}: 403, got {status} {body[:200]!r}")
        status, _, body = d.request("POST", "/v1/sources", json.dumps({"id": "pub", "url": "https://feeds.example.com/x"}))
        check(status == 201, f"a public host is taken: {status} {body[:200]!r}")

        check(d.terminate() == 0, "SIGTERM: exit 0")
        logs = "".join(open(os.path.join(tmp, f"daemon-{i}.err")).read() for i in range(1, d.runs + 1))
        check(SECRET not in logs and URL_PASSWORD not in logs and "filesecret" not in logs,
              "no secret in the daemon's log lines")
        sink.stop()
        feeds.stop()
    check.finish("daemon.sources_api")


if __name__ == "__main__":
    main()
