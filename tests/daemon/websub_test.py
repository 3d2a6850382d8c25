#!/usr/bin/env python3
"""The daemon's WebSub hub, the websub.rocks hub checks as integration tests: a typical
subscriber, with a secret, extra parameters ignored, re-subscribing gives one delivery,
unsubscribing stops delivery, content types other than Atom; plus failed verification, lease
expiry, 410, and the SSRF refusal of loopback callbacks.

usage: websub_test.py SYNDIC"""

import hashlib
import hmac
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
from daemon_lib import Checks, Daemon, items, tempdir, wait_for  # noqa: E402


class Subscriber:
    """A WebSub subscriber on 127.0.0.1: echoes challenges (unless told not to), records
    verifications and deliveries per path."""

    def __init__(self):
        self.verifications, self.deliveries = [], []
        self.liars = set()  # paths whose verification gets a wrong body
        self.status = 204
        self.lock = threading.Lock()
        sub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                with sub.lock:
                    sub.verifications.append((self.path, q))
                path = urllib.parse.urlsplit(self.path).path
                body = b"nope" if path in sub.liars else q.get("hub.challenge", "").encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with sub.lock:
                    sub.deliveries.append((self.path, dict(self.headers), body))
                self.send_response(sub.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def delivered(self, path):
        with self.lock:
            return [d for d in self.deliveries if d[0] == path]

    def verified(self, path, mode):
        with self.lock:
            return [v for v in self.verifications if v[0].startswith(path) and v[1].get("hub.mode") == mode]


check = Checks()


def hub_post(d, params):
    body = urllib.parse.urlencode(params)
    return d.request("POST", "/hub", body, {"Content-Type": "application/x-www-form-urlencoded"}, token=None)


def subscribe(d, sub, path, topic, **extra):
    params = {"hub.mode": "subscribe", "hub.callback": sub.url(path), "hub.topic": topic, **extra}
    status, _, body = hub_post(d, params)
    check(status == 202, f"subscribe answered {status}: {body!r}")
    return status


def main():
    syndic = sys.argv[1]
    with tempdir() as tmp:
        sub = Subscriber()
        d = Daemon(syndic, tmp, extra=["--allow-private-targets", "--websub-min-lease-seconds", "1"])
        d.start()
        atom = d.url + "/feeds/news.atom"
        try:
            # A typical subscriber: verified with mode, topic, challenge and lease; then content.
            subscribe(d, sub, "/typical", atom, **{"hub.lease_seconds": "3600"})
            v = wait_for(lambda: sub.verified("/typical", "subscribe"), 10, "the verification GET")[0][1]
            check(v.get("hub.topic") == atom and v.get("hub.lease_seconds") == "3600", f"verification params {v}")
            # With a secret; with extra parameters (ignored); subscribed twice; JSON and RSS topics.
            subscribe(d, sub, "/secret", atom, **{"hub.secret": "s3cr3t"})
            subscribe(d, sub, "/extra", atom, **{"foo": "bar", "hub.unknown": "x"})
            subscribe(d, sub, "/twice", atom)
            wait_for(lambda: sub.verified("/twice", "subscribe"), 10, "the first verification of /twice")
            subscribe(d, sub, "/twice", atom)
            subscribe(d, sub, "/json", d.url + "/feeds/news.json")
            subscribe(d, sub, "/rss", d.url + "/feeds/news.rss")
            sub.liars.add("/liar")
            subscribe(d, sub, "/liar", atom)  # echoes the wrong body: not subscribed
            wait_for(lambda: sub.verified("/liar", "subscribe"), 10, "the liar's verification")
            wait_for(lambda: len(sub.verified("/twice", "subscribe")) == 2 and sub.verified("/rss", "subscribe"), 10,
                     "every verification")
            time.sleep(0.3)  # the last verification's answer is applied
            d.publish(items(0, 1), channel="news")
            d.publish(items(100, 1), channel="other")  # not a subscribed channel
            for path in ("/typical", "/secret", "/extra", "/twice", "/json", "/rss"):
                wait_for(lambda: sub.delivered(path), 10, f"a delivery to {path}")
            time.sleep(0.5)
            for path in ("/typical", "/secret", "/extra", "/twice", "/json", "/rss"):
                check(len(sub.delivered(path)) == 1, f"{path}: {len(sub.delivered(path))} deliveries, expected 1")
            check(not sub.delivered("/liar"), "a subscriber that failed verification got content")
            _, headers, body = sub.delivered("/typical")[0]
            link = headers.get("Link", "")
            check(f"<{d.url}/hub>; rel=\"hub\"" in link and f"<{atom}>; rel=\"self\"" in link, f"Link header: {link}")
            check(headers.get("Content-Type", "").startswith("application/atom+xml"), f"content type {headers}")
            check(b"Release 0" in body and b"Release 100" not in body, "the delivered content")
            _, headers, body = sub.delivered("/secret")[0]
            want = "sha256=" + hmac.new(b"s3cr3t", body, hashlib.sha256).hexdigest()
            check(headers.get("X-Hub-Signature") == want, f"X-Hub-Signature {headers.get('X-Hub-Signature')} != {want}")
            check("X-Hub-Signature" not in sub.delivered("/typical")[0][1], "a signature without a secret")
            check(sub.delivered("/json")[0][1].get("Content-Type", "").startswith("application/feed+json"), "json topic type")
            check(sub.delivered("/rss")[0][1].get("Content-Type", "").startswith("application/rss+xml"), "rss topic type")

            # Unsubscribing stops delivery.
            status, _, _ = hub_post(d, {"hub.mode": "unsubscribe", "hub.callback": sub.url("/typical"), "hub.topic": atom})
            check(status == 202, f"unsubscribe answered {status}")
            wait_for(lambda: sub.verified("/typical", "unsubscribe"), 10, "the unsubscribe verification")
            time.sleep(0.3)
            # A 410 ends a subscription; a 1 s lease ends by itself.
            sub_410 = Subscriber()
            sub_410.status = 410
            subscribe(d, sub_410, "/gone", atom)
            subscribe(d, sub, "/short", atom, **{"hub.lease_seconds": "1"})
            wait_for(lambda: sub_410.verified("/gone", "subscribe") and sub.verified("/short", "subscribe"), 10,
                     "the verifications")
            time.sleep(0.3)
            d.publish(items(1, 1), channel="news")
            wait_for(lambda: sub.delivered("/extra") and len(sub.delivered("/extra")) == 2, 10, "the second item")
            time.sleep(0.3)
            check(len(sub.delivered("/typical")) == 1, "an unsubscribed callback still gets content")
            wait_for(lambda: b"syndic_websub_gone_total 1" in d.request("GET", "/metrics")[2], 10,
                     "the 410 subscription to end")
            wait_for(lambda: b"syndic_websub_expired_total 1" in d.request("GET", "/metrics")[2], 10,
                     "the 1 s lease to end")
            d.publish(items(2, 1), channel="news")
            wait_for(lambda: len(sub.delivered("/extra")) == 3, 10, "the third item")
            time.sleep(0.3)
            check(len(sub_410.delivered("/gone")) == 1, f"after its 410: {len(sub_410.delivered('/gone'))} deliveries")
            short = len(sub.delivered("/short"))
            check(short <= 1, f"after its lease ended: {short} deliveries")

            # Bad requests: 4xx with a JSON error.
            for params, want in [({"hub.mode": "subscribe", "hub.topic": atom}, 400),
                                 ({"hub.mode": "subscribe", "hub.callback": sub.url("/x"), "hub.topic": "http://elsewhere/feed"}, 400),
                                 ({"hub.mode": "subscribe", "hub.callback": "gopher://x/", "hub.topic": atom}, 400),
                                 ({"hub.mode": "subscribe", "hub.callback": sub.url("/x"), "hub.topic": atom,
                                   "hub.secret": "x" * 200}, 400),
                                 ({"hub.mode": "dance"}, 400),
                                 ({"hub.mode": "publish", "hub.url": atom}, 202)]:
                status, _, body = hub_post(d, params)
                check(status == want, f"{params} answered {status} {body!r}, expected {want}")
            check(d.terminate() == 0, "SIGTERM exit code")

            # Restart: subscriptions come back from the store.
            d.start()
            d.publish(items(3, 1), channel="news")
            wait_for(lambda: len(sub.delivered("/extra")) == 4, 10, "a delivery after the restart")
            check(d.terminate() == 0, "SIGTERM exit code after the restart")

            # SSRF: a loopback callback is refused unless the operator allowed it.
            d2 = Daemon(syndic, tmp + "/ssrf")
            os.makedirs(tmp + "/ssrf")
            d2.start()
            status, _, body = hub_post(d2, {"hub.mode": "subscribe", "hub.callback": sub.url("/ssrf"),
                                            "hub.topic": d2.url + "/feeds/news.atom"})
            check(status == 403 and b"loopback" in body, f"loopback callback answered {status} {body!r}")
            d2.terminate()
        finally:
            for p in (d.proc,):
                if p and p.poll() is None:
                    p.kill()
    check.finish("websub_test")


if __name__ == "__main__":
    main()
