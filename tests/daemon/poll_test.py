#!/usr/bin/env python3
"""The daemon polling real feeds: nginx serves static files on 127.0.0.1 (its own ETag,
Last-Modified and 304), `syndic sink` plays the outlets, `syndic run --sources` polls.

Checks: every item of every source reaches every outlet once; the next polls are 304s and
parse nothing; a broken source fails alone (its error in the API) while the others flow; a
new item in a feed goes out once; a restart (kill -9) republishes nothing, even when the feed's
bytes change without new items; an outlet's `sources` filter matches a source's id and a
source's tags reach `categories` filters; SIGHUP adds a source from the file; a file:// source
is polled too.

usage: poll_test.py SYNDIC"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon_lib import Checks, Daemon, Sink, free_port, tempdir, wait_for  # noqa: E402


def rss(title, items):
    body = "".join(
        f"<item><title>{t}</title><link>https://example.com/{g}</link><guid>{g}</guid>"
        f"<description>Body of {t}</description></item>" for g, t in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>https://example.com/</link><description>d</description>{body}</channel></rss>")


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)  # nginx never serves half a file


class Nginx:
    def __init__(self, root, tmp):
        self.port = free_port()
        self.tmp = tmp
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""worker_processes 1; daemon on; pid {tmp}/nginx.pid; error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
  types {{ application/rss+xml xml; application/feed+json json; }}
  log_format st '$status $request_uri';
  access_log {tmp}/access.log st;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  server {{ listen 127.0.0.1:{self.port}; root {root}; }}
}}
""")
        subprocess.run(["nginx", "-c", conf, "-p", tmp, "-e", f"{tmp}/nginx-error.log"], check=True)
        wait_for(lambda: os.path.exists(f"{tmp}/nginx.pid") and os.path.getsize(f"{tmp}/nginx.pid") > 0, 10,
                 "nginx to start")

    def statuses(self, path):
        with open(f"{self.tmp}/access.log") as f:
            return [line.split()[0] for line in f if line.split()[1:2] == [path]]

    def stop(self):
        try:
            with open(f"{self.tmp}/nginx.pid") as f:
                os.kill(int(f.read()), signal.SIGTERM)
        except (OSError, ValueError):
            pass


def main():
    syndic = sys.argv[1]
    if not shutil.which("nginx"):
        print("SKIP: nginx is not installed (scripts/setup.sh installs it)")
        sys.exit(77)
    check = Checks()
    with tempdir() as tmp:
        os.chmod(tmp, 0o755)
        www = os.path.join(tmp, "www")
        os.mkdir(www)
        write(f"{www}/a.xml", rss("A", [("a1", "A one"), ("a2", "A two"), ("a3", "A three")]))
        write(f"{www}/b.json", json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "B", "items": [
            {"id": "b1", "title": "B one", "content_text": "x"}, {"id": "b2", "title": "B two", "content_text": "y"}]}))
        write(f"{www}/bad.xml", "<html><body>Moved to our new site</body></html>")  # not a feed at all
        write(f"{tmp}/local.xml", rss("L", [("l1", "Local one")]))
        nginx = Nginx(www, tmp)
        sink = Sink(syndic, tmp)
        base = f"http://127.0.0.1:{nginx.port}"
        outlets = os.path.join(tmp, "outlets.csv")
        with open(outlets, "w") as f:
            f.write("id,url,format,sources,categories\n")
            f.write(f"all,http://127.0.0.1:{sink.port}/all,webhook,,\n")
            f.write(f"only-b,http://127.0.0.1:{sink.port}/only-b,webhook,b,\n")
            f.write(f"business,http://127.0.0.1:{sink.port}/business,webhook,,business\n")
        sources = os.path.join(tmp, "sources.csv")
        with open(sources, "w") as f:
            f.write("id,url,min_interval,max_interval,tags\n")
            f.write(f"a,{base}/a.xml,1,2,lang:en;business\n")
            f.write(f"b,{base}/b.json,1,2,\n")
            f.write(f"bad,{base}/bad.xml,1,2,\n")
            f.write(f"local,file://{tmp}/local.xml,1,2,\n")
        d = Daemon(syndic, tmp, outlets, ["--sources", sources, "--poll-host-gap-ms", "0",
                                          "--poll-start-spread-s", "0"])
        d.start()

        # a: 3, b: 2, local: 1 -> "all" gets 6, "only-b" 2, "business" 3 (a's tag).
        wait_for(lambda: sink.distinct() >= 11, 30, "the first polls' items at the outlets")
        time.sleep(2.5)  # more polls: 304s, nothing new
        st = sink.stats()
        check(sink.distinct() == 11, f"11 distinct deliveries after the first polls, got {sink.distinct()}: {st}")
        check(st["duplicates"] == 0, f"no duplicates: {st}")
        a_statuses = nginx.statuses("/a.xml")
        check(a_statuses[:1] == ["200"] and "304" in a_statuses[1:],
              f"a.xml: 200 once then 304s (conditional GET), got {a_statuses}")

        status, _, body = d.request("GET", "/v1/sources/a")
        check(status == 200, f"GET /v1/sources/a: {status} {body[:200]!r}")
        if status == 200:
            a = json.loads(body)
            text = json.dumps(a)
            check(a.get("changed", a.get("stats", {}).get("changed")) == 1 or '"changed": 1' in text,
                  f"a parsed once: {text[:600]}")
        status, _, body = d.request("GET", "/v1/sources/bad")
        check(status == 200 and b"not a feed" in body, f"bad: its error shows: {status} {body[:400]!r}")

        # A new item in a: once to "all" and "business".
        write(f"{www}/a.xml", rss("A", [("a4", "A four"), ("a1", "A one"), ("a2", "A two"), ("a3", "A three")]))
        wait_for(lambda: sink.distinct() >= 13, 20, "a4 at the outlets")
        time.sleep(2.5)
        check(sink.distinct() == 13 and sink.stats()["duplicates"] == 0, f"a4 once each: {sink.stats()}")

        # kill -9, then bytes that change without a new item: nothing is published again.
        d.kill9()
        write(f"{www}/a.xml", rss("A", [("a4", "A four"), ("a1", "A one"), ("a2", "A two"), ("a3", "A three")])
              + "<!-- rebuilt -->")
        d.start()
        wait_for(lambda: nginx.statuses("/a.xml")[-1:] == ["200"] and len(nginx.statuses("/a.xml")) > 0, 20,
                 "a.xml fetched again after the restart")
        time.sleep(3)
        check(sink.distinct() == 13, f"nothing republished after kill -9 and a rebuilt feed: {sink.stats()}")

        # SIGHUP: a new source from the file.
        write(f"{www}/c.xml", rss("C", [("c1", "C one")]))
        with open(sources, "a") as f:
            f.write(f"c,{base}/c.xml,1,2,\n")
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: sink.distinct() >= 14, 20, "c1 after SIGHUP")
        check(re.search(r"SIGHUP: sources", d.stderr()) is not None, "SIGHUP logs the sources reload")

        check(d.terminate() == 0, "SIGTERM: exit 0")
        sink.stop()
        nginx.stop()
    check.finish("daemon.poll")


if __name__ == "__main__":
    main()
