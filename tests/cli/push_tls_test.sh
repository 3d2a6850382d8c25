#!/usr/bin/env bash
# `syndic push` to https outlets: nginx terminates TLS (HTTP/2 and HTTP/1.1) in front of
# `syndic sink`. TLS verification is on by default (an unknown CA fails, and so does a name
# the certificate does not carry), `--cacert` trusts a private CA, `--insecure` skips
# verification. Two transports carry https:
#  - by default the h1 transport (HTTP/1.1 keep-alive over OpenSSL): at most max_in_flight
#    connections per outlet, kept alive;
#  - an outlet with `http2=true` goes through libcurl: HTTP/2, every delivery on one shared
#    connection. A second location answers before reading the body (nginx's `return 204`),
#    which makes nginx reset the HTTP/2 stream after its answer: those deliveries must still
#    succeed (and over HTTP/1.1 too).
# usage: push_tls_test.sh SYNDIC FIXTURES
set -u
syndic=$1
fixtures=$2
command -v nginx >/dev/null || { echo "SKIP: nginx is not installed (scripts/setup.sh installs it)"; exit 77; }
tmp=$(mktemp -d)
chmod 755 "$tmp"
sink_pid=""
trap 'kill $(cat "$tmp/nginx.pid" 2>/dev/null) $sink_pid 2>/dev/null; rm -rf "$tmp"' EXIT
failures=0
. "$(dirname "$0")/lib.sh"

# A private CA and a certificate for 127.0.0.1 signed by it.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=syndic test CA" \
  -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$tmp/san.ext"
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
  -days 2 -extfile "$tmp/san.ext" -out "$tmp/server.pem" 2>/dev/null || { echo "FAIL: openssl"; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
sink_port=$(free_port)
"$syndic" sink --listen "127.0.0.1:$sink_port" >"$tmp/sink.json" 2>"$tmp/sink.err" &
sink_pid=$!
cat >"$tmp/nginx.conf" <<CONF
worker_processes 1; daemon on; pid $tmp/nginx.pid; error_log $tmp/error.log warn;
events { worker_connections 256; }
http {
  log_format proto '\$server_protocol \$connection \$request_method \$request_uri';
  access_log $tmp/access.log proto;
  client_body_temp_path $tmp/body; proxy_temp_path $tmp/proxy; fastcgi_temp_path $tmp/fcgi;
  uwsgi_temp_path $tmp/uwsgi; scgi_temp_path $tmp/scgi;
  server {
    listen 127.0.0.1:$port ssl http2;
    ssl_certificate $tmp/server.pem; ssl_certificate_key $tmp/server.key;
    location / { proxy_pass http://127.0.0.1:$sink_port; }
    location /early { return 204; }
  }
}
CONF
nginx -c "$tmp/nginx.conf" -p "$tmp" -e "$tmp/error.log" || { echo "FAIL: nginx did not start"; exit 1; }
for _ in $(seq 50); do [ -s "$tmp/nginx.pid" ] && break; sleep 0.1; done

# Six items, so that several deliveries to one outlet are in flight at once.
python3 -c '
import json
print(json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "TLS wire",
  "items": [{"id": "tls-%d" % i, "title": "Item %d" % i, "content_text": "x" * 600} for i in range(6)]}))
' >"$tmp/feed.json"
for _ in $(seq 50); do grep -q listening "$tmp/sink.err" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$tmp/sink.err" || { echo "FAIL: sink did not start: $(cat "$tmp/sink.err")"; exit 1; }

echo "id,url,format,max_in_flight,http2" >"$tmp/outlets.csv"
echo "secure,https://127.0.0.1:$port/hook,webhook,4,true" >>"$tmp/outlets.csv"
echo "id,url,format,max_in_flight" >"$tmp/h1.csv"
echo "secure,https://127.0.0.1:$port/hook,webhook,4" >>"$tmp/h1.csv"

# Unknown CA: verification fails; push reports it and exits 1 when its deadline passes.
expect 1 "certificate" "$syndic" push --outlets "$tmp/outlets.csv" --deadline 2 "$tmp/feed.json"
[ -s "$tmp/access.log" ] && fail "a request got through an unverified TLS connection"

# The same through the h1 transport (the default for https).
expect 1 "certificate verify failed" "$syndic" push --outlets "$tmp/h1.csv" --deadline 2 "$tmp/feed.json"
[ -s "$tmp/access.log" ] && fail "h1: a request got through an unverified TLS connection"
# A name the certificate does not carry (it names 127.0.0.1 only): refused, even with the CA.
echo "id,url,format" >"$tmp/wrong-name.csv"
echo "named,https://localhost:$port/hook,webhook" >>"$tmp/wrong-name.csv"
expect 1 "hostname mismatch" "$syndic" push --outlets "$tmp/wrong-name.csv" --cacert "$tmp/ca.pem" --deadline 2 "$tmp/feed.json"
[ -s "$tmp/access.log" ] && fail "h1: a request went to a host the certificate does not name"

# The private CA trusted, http2=true: every item delivered over HTTP/2, on one shared connection.
expect 0 "" "$syndic" push --outlets "$tmp/outlets.csv" --cacert "$tmp/ca.pem" --deadline 20 --json "$tmp/feed.json"
grep -q '"delivered":6,"retries":0' "$tmp/out" || fail "push with --cacert: $(cat "$tmp/out" "$tmp/err")"
lines=$(grep -c POST "$tmp/access.log")
[ "$lines" -eq 6 ] || fail "nginx saw $lines POSTs, expected 6"
grep POST "$tmp/access.log" | grep -vq '^HTTP/2.0 ' && fail "not every request used HTTP/2: $(cat "$tmp/access.log")"
conns=$(grep POST "$tmp/access.log" | awk '{print $2}' | sort -u | wc -l)
[ "$conns" -eq 1 ] || fail "6 deliveries used $conns connections, expected 1: $(cat "$tmp/access.log")"
stats=$(curl -s "http://127.0.0.1:$sink_port/_stats")
echo "$stats" | grep -q '"delivered":6,"items":6' || fail "the sink behind nginx: $stats"

# At the defaults (h1 over TLS): HTTP/1.1, connections kept alive, at most max_in_flight.
: >"$tmp/access.log"
expect 0 "" "$syndic" push --outlets "$tmp/h1.csv" --cacert "$tmp/ca.pem" --deadline 20 --json "$tmp/feed.json"
grep -q '"delivered":6,"retries":0' "$tmp/out" || fail "h1 push with --cacert: $(cat "$tmp/out" "$tmp/err")"
lines=$(grep -c POST "$tmp/access.log")
[ "$lines" -eq 6 ] || fail "h1: nginx saw $lines POSTs, expected 6"
grep POST "$tmp/access.log" | grep -vq '^HTTP/1.1 ' && fail "h1: not every request used HTTP/1.1: $(cat "$tmp/access.log")"
conns=$(grep POST "$tmp/access.log" | awk '{print $2}' | sort -u | wc -l)
[ "$conns" -le 4 ] || fail "h1: 6 deliveries used $conns connections, expected at most 4: $(cat "$tmp/access.log")"
# One request in flight: one connection carries every delivery.
sed 's/,4$/,1/' "$tmp/h1.csv" >"$tmp/h1-one.csv"
: >"$tmp/access.log"
expect 0 "" "$syndic" push --outlets "$tmp/h1-one.csv" --cacert "$tmp/ca.pem" --deadline 20 --json "$tmp/feed.json"
grep -q '"delivered":6,"retries":0' "$tmp/out" || fail "h1 push, max_in_flight=1: $(cat "$tmp/out" "$tmp/err")"
conns=$(grep POST "$tmp/access.log" | awk '{print $2}' | sort -u | wc -l)
[ "$conns" -eq 1 ] || fail "h1: 6 deliveries, one in flight, used $conns connections, expected 1: $(cat "$tmp/access.log")"

# Answered before the body was read (HTTP/2: then reset with NO_ERROR): delivered all the same.
for h2 in true false; do
  {
    echo "id,url,format,http2"
    for i in $(seq 10); do echo "early$i,https://127.0.0.1:$port/early/$i,webhook,$h2"; done
  } >"$tmp/early.csv"
  expect 0 "" "$syndic" push --outlets "$tmp/early.csv" --cacert "$tmp/ca.pem" --deadline 30 --json "$tmp/feed.json"
  grep -q '"delivered":60' "$tmp/out" || fail "early answers (http2=$h2): $(cat "$tmp/out" "$tmp/err")"
done

# --insecure: delivered without verification, by either transport, whatever the name.
expect 0 "" "$syndic" push --outlets "$tmp/outlets.csv" --insecure --deadline 20 "$tmp/feed.json"
expect 0 "" "$syndic" push --outlets "$tmp/h1.csv" --insecure --deadline 20 "$tmp/feed.json"
expect 0 "" "$syndic" push --outlets "$tmp/wrong-name.csv" --insecure --deadline 20 "$tmp/feed.json"
expect 2 "--cacert" "$syndic" push --outlets "$tmp/outlets.csv" --cacert "$tmp/no-such.pem" "$tmp/feed.json"

[ "$failures" -eq 0 ] && echo "push_tls: all passed"
exit $((failures > 0))
