#!/usr/bin/env bash
# Commands that send nothing do not load libcurl (its dependency tree cost every start-up
# 15-20 ms): `--version`, `--help`, `convert`, `sink`. An https delivery loads it on first
# use; when it cannot be loaded, nothing fails at start and the delivery's failure says why.
# usage: startup_test.sh SYNDIC FIXTURES
set -u
syndic=$1
fixtures=$2
tmp=$(mktemp -d)
sink_pid=""
tls_pid=""
trap 'kill $sink_pid $tls_pid 2>/dev/null; rm -rf "$tmp"' EXIT
failures=0
. "$(dirname "$0")/lib.sh"

# --version and --help leave through _Exit (no static destructors): their output, to a file
# (so fully buffered), must still be all there.
expect 0 "syndic 0.1.0" "$syndic" --version
expect 0 "convert" "$syndic" --help
grep -q 'run' "$tmp/out" || fail "syndic --help to a file lost its end: $(tail -c 200 "$tmp/out")"

# LD_DEBUG=files makes the dynamic loader name every library it loads, at start or by dlopen.
loads_curl() { LD_DEBUG=files "$@" 2>&1 >/dev/null | grep -q 'file=libcurl'; }
loads_curl "$syndic" --version && fail "syndic --version loads libcurl"
loads_curl "$syndic" --help && fail "syndic --help loads libcurl"
loads_curl "$syndic" convert --to atom "$fixtures/rss20-full.xml" && fail "syndic convert loads libcurl"

# Where the command is linked statically (cmake/static_command.cmake; not in sanitizer
# builds), it loads at start only the C and C++ runtimes and simdjson (Debian ships it only
# shared): each other shared library (OpenSSL, toml++, pugixml, Boost.URL...) cost 1-3 ms of
# start-up here. And it exports no OpenSSL
# symbol, so that the libssl.so that libcurl brings binds to itself, not to the command's copy.
cache="$(dirname "$syndic")/../CMakeCache.txt"
static=$(sed -n 's/^SYNDIC_STATIC_COMMAND_IN_USE:INTERNAL=//p' "$cache" 2>/dev/null)
# And where its C++ runtime is linked in too, simdjson (Debian ships it only shared, needing
# libstdc++.so) is loaded on the first JSON parse (src/cli/simdjson_loader.cpp).
static_cxx=$(sed -n 's/^SYNDIC_STATIC_CXX_RUNTIME_IN_USE:INTERNAL=//p' "$cache" 2>/dev/null)
if [ "${SYNDIC_EXPECT_STATIC:-$static}" = ON ]; then
  start_libs() { LD_DEBUG=files "$@" 2>&1 >/dev/null | sed -n 's/.*file=\([^ ]*\) .*needed by.*/\1/p' | sort -u; }
  for args in "--version" "--help" "convert --to atom $fixtures/rss20-full.xml"; do
    # shellcheck disable=SC2086 # the arguments are split on purpose
    libs=$(start_libs "$syndic" $args)
    [ -n "$libs" ] || fail "syndic $args: LD_DEBUG=files named no library (is the loader's output changed?)"
    for lib in $libs; do
      case $lib in
        libc.so.6 | libm.so.6) ;;
        libstdc++.so.6 | libgcc_s.so.1 | libsimdjson.so.*)
          [ "${SYNDIC_EXPECT_STATIC_CXX:-$static_cxx}" = ON ] &&
            fail "syndic $args loads $lib at start (the C++ runtime and libgcc are linked in; simdjson loads on first use)" ;;
        *) fail "syndic $args loads $lib at start (only the C/C++ runtimes and simdjson expected)" ;;
      esac
    done
  done
  if [ "${SYNDIC_EXPECT_STATIC_CXX:-$static_cxx}" = ON ]; then
    # A JSON feed loads simdjson (and libstdc++.so for it) when it is parsed, and converts as
    # it did linked. A malformed one gets simdjson's own message: the command's copy of its
    # table of messages is filled from the library's.
    LD_DEBUG=files expect 0 "" "$syndic" convert --to rss "$fixtures/jsonfeed11.json"
    grep -q 'file=libsimdjson.so.* dynamically loaded by' "$tmp/err" ||
      fail "convert of a JSON feed did not load simdjson on first use: $(grep 'file=' "$tmp/err" | head -5)"
    grep -q '<rss' "$tmp/out" || fail "convert of a JSON feed wrote no RSS: $(head -c 300 "$tmp/out")"
    printf '{"version":"https://jsonfeed.org/version/1.1","items":[' >"$tmp/broken.json"
    expect 1 "malformed JSON: The JSON document has an improper structure" \
      "$syndic" convert --to rss "$tmp/broken.json"
    # When it cannot be loaded, the command stops saying so (exit 70), as for OpenSSL.
    SYNDIC_LIBSIMDJSON=/nonexistent/libsimdjson.so.14 expect 70 \
      "simdjson could not be loaded (/nonexistent/libsimdjson.so.14" \
      "$syndic" convert --to rss "$fixtures/jsonfeed11.json"
    # With simdjson (so libstdc++.so and libgcc_s.so) loaded, the command's own exceptions
    # still unwind with its own runtime: `syndic run` parses a JSON publish, then a SIGHUP
    # reload of a broken TOML outlets file throws toml::parse_error, caught and reported; the
    # daemon keeps delivering.
    python3 - "$syndic" "$(dirname "$0")/../daemon" <<'PY' >"$tmp/runtimes.out" 2>&1 || fail "two C++ runtimes in one daemon: $(tail -5 "$tmp/runtimes.out")"
import os, signal, sys
sys.path.insert(0, sys.argv[2])
from daemon_lib import Daemon, Sink, items, tempdir, wait_for
syndic = sys.argv[1]
with tempdir() as tmp:
    sink = Sink(syndic, tmp)
    outlets = os.path.join(tmp, "outlets.toml")
    with open(outlets, "w") as f:
        f.write(f'[[outlet]]\nid = "a"\nurl = "http://127.0.0.1:{sink.port}/a"\nformat = "webhook"\n')
    d = Daemon(syndic, tmp, outlets)
    d.start()
    delivered = lambda: sink.stats()["outlets"].get(f"{sink.port}/a", 0)
    d.publish(items(1, 2))
    wait_for(lambda: delivered() >= 2, 20, "two deliveries")
    with open(f"/proc/{d.proc.pid}/maps") as f:
        maps = f.read()
    assert "libsimdjson" in maps and "libstdc++" in maps, "simdjson was not loaded by a JSON publish"
    with open(outlets, "w") as f:
        f.write('[[outlet]\nid = "broken')
    d.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "the outlets file has errors" in d.stderr() or d.proc.poll() is not None, 20, "the refused reload")
    assert d.proc.poll() is None, f"the daemon died on the broken reload: {d.stderr()[-500:]}"
    assert "Error while parsing" in d.stderr(), "toml's exception message was not reported"
    d.publish(items(10, 1))
    wait_for(lambda: delivered() >= 3, 20, "a delivery after the reload")
    d.terminate()
    sink.stop()
PY
    # The command's copy of the C++ runtime stays its own: libsimdjson.so binds to
    # libstdc++.so, not to symbols the command would export.
    exported=$(nm -D --defined-only "$syndic" | grep -cE ' (_ZNS|_ZNKS|_ZSt|_Znw|_Znam|_Zdl|_Zda|__cxa_|__gxx_)')
    [ "$exported" -eq 0 ] || fail "syndic exports $exported C++ runtime symbols"
  fi
  exported=$(nm -D --defined-only "$syndic" | grep -cE ' (SSL|SSL_CTX|EVP|OPENSSL|CRYPTO|X509|BIO|ERR)_')
  [ "$exported" -eq 0 ] || fail "syndic exports $exported OpenSSL symbols (libcurl's libssl.so would bind to them)"
fi
# sink: started, asked for its stats over HTTP, stopped.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LD_DEBUG=files "$syndic" sink --listen "127.0.0.1:$port" >/dev/null 2>"$tmp/sink.err" &
sink_pid=$!
for _ in $(seq 50); do grep -q listening "$tmp/sink.err" && break; sleep 0.1; done
grep -q listening "$tmp/sink.err" || fail "sink did not start: $(grep -v 'file=' "$tmp/sink.err" | head -5)"
kill "$sink_pid" 2>/dev/null
wait "$sink_pid" 2>/dev/null
sink_pid=""
grep -q 'file=libcurl' "$tmp/sink.err" && fail "syndic sink loads libcurl"

# push to plain http:// outlets (here a closed port: the delivery fails, which is beside the
# point) needs no libcurl either.
printf 'id,url,format\nplain,http://127.0.0.1:9/hook,webhook\n' >"$tmp/plain.csv"
echo '{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"a","content_text":"x"}]}' >"$tmp/feed.json"
loads_curl "$syndic" push --outlets "$tmp/plain.csv" --deadline 1 "$tmp/feed.json" && fail "push to http:// outlets loads libcurl"
if [ "${SYNDIC_EXPECT_STATIC:-$static}" = ON ]; then
  # Nor OpenSSL, which the static command loads on first use (src/cli/openssl_loader.cpp)...
  LD_DEBUG=files "$syndic" push --outlets "$tmp/plain.csv" --deadline 1 "$tmp/feed.json" 2>&1 >/dev/null |
    grep -q 'file=libssl' && fail "push to http:// outlets without secrets loads libssl"
  # ...and when it cannot, the command stops saying so (exit 70), at the first use: here a
  # signature (whsec_ secret), which needs libcrypto's HMAC.
  printf 'id,url,format,secret\nsigned,http://127.0.0.1:9/hook,webhook,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n' >"$tmp/signed.csv"
  SYNDIC_LIBSSL=/nonexistent/libssl.so.3 expect 70 "OpenSSL could not be loaded (/nonexistent/libssl.so.3" \
    "$syndic" push --outlets "$tmp/signed.csv" --deadline 1 "$tmp/feed.json"
fi

# https through both transports in one process: h1 (OpenSSL, loaded on first use in the static
# command) and libcurl (http2=true; it brings libssl.so too). One copy of libssl is loaded,
# and both deliver, verifying the server against a private CA. The server: Python's, HTTP/1.1.
if command -v openssl >/dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=syndic test CA" \
    -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$tmp/server.key" \
    -out "$tmp/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\n' >"$tmp/san.ext"
  openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
    -days 2 -extfile "$tmp/san.ext" -out "$tmp/server.pem" 2>/dev/null
  python3 - "$tmp/server.pem" "$tmp/server.key" >"$tmp/tls.port" <<'PY' &
import http.server, ssl, sys
class Hook(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
PY
  tls_pid=$!
  for _ in $(seq 50); do [ -s "$tmp/tls.port" ] && break; sleep 0.1; done
  tls_port=$(cat "$tmp/tls.port")
  printf 'id,url,format,http2\nh1,https://127.0.0.1:%s/a,webhook,false\ncurl,https://127.0.0.1:%s/b,webhook,true\n' \
    "$tls_port" "$tls_port" >"$tmp/both.csv"
  LD_DEBUG=files expect 0 "" "$syndic" push --outlets "$tmp/both.csv" --cacert "$tmp/ca.pem" --deadline 20 --json "$tmp/feed.json"
  grep -q '"delivered":2' "$tmp/out" || fail "https through h1 and libcurl in one push: $(cat "$tmp/out"; grep -v 'file=' "$tmp/err" | head -5)"
  grep -q 'file=libcurl' "$tmp/err" || fail "the http2=true outlet did not go through libcurl"
  loads=$(grep -cE 'file=libssl\.so.*(needed|loaded) by' "$tmp/err")
  [ "$loads" -eq 1 ] || fail "libssl was loaded $loads times, expected once: $(grep 'file=libssl' "$tmp/err")"
  kill "$tls_pid" 2>/dev/null
  wait "$tls_pid" 2>/dev/null
  tls_pid=""
fi

# libcurl missing: an outlet that needs it (https through a proxy; HTTP/2 likewise) fails with
# the loader's reason, and the exit status says not delivered (1), not a crash.
echo '{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"a","content_text":"x"}]}' >"$tmp/feed.json"
printf 'id,url,format\nsecure,https://127.0.0.1:9/hook,webhook\n' >"$tmp/outlets.csv"
SYNDIC_LIBCURL=/nonexistent/libcurl.so.4 https_proxy=http://127.0.0.1:9 expect 1 "libcurl could not be loaded (/nonexistent/libcurl.so.4" \
  "$syndic" push --outlets "$tmp/outlets.csv" --deadline 2 "$tmp/feed.json"

[ "$failures" -eq 0 ] && echo "cli startup: all passed"
exit $((failures > 0))
