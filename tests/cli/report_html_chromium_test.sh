#!/usr/bin/env bash
# The load-test report's HTML page opens in headless Chromium and its charts are drawn:
#  - the DOM Chromium built holds both charts (#throughput-chart, #latency-chart) with SVG
#    paths whose d / points are not empty;
#  - the screenshot's chart areas are not blank (many distinct colours in each band).
# Also: an empty report's DOM holds its "No data" notes; with SYNDIC, the page a short
# `syndic loadtest --html` run writes is checked as the sample is. Skipped (77) without chromium.
#   report_html_chromium_test.sh REPORT_HTML_SAMPLE [SYNDIC]
# REPORT_HTML_KEEP=DIR: write the HTML and screenshots there and keep them (to look at them).
set -euo pipefail

sample=${1:?usage: report_html_chromium_test.sh REPORT_HTML_SAMPLE [SYNDIC]}
syndic=${2:-}
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "SKIP: chromium not installed (scripts/setup.sh installs it)"
  exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=${REPORT_HTML_KEEP:-$work}
mkdir -p "$out"
# Chromium writes its profile and caches under HOME: a fresh one per run, nothing shared.
export HOME="$work/home"
mkdir -p "$HOME"

run_chromium() {  # run_chromium ARGS...: bounded, quiet, no network, no first-run UI
  timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --user-data-dir="$work/profile" --no-first-run --no-default-browser-check \
    --disable-extensions --disable-background-networking --disable-sync \
    --hide-scrollbars --force-device-scale-factor=1 "$@" 2>>"$work/chromium.log"
}

fail() { echo "FAIL: $*"; tail -n 20 "$work/chromium.log" 2>/dev/null || true; exit 1; }

# A run with every class (a loss included, so FAILED), and an empty report. One Chromium start
# per page writes both the DOM and the screenshot (a start takes seconds on a busy machine).
kinds="failed empty"
[ -z "$syndic" ] || kinds="$kinds loadtest"
for kind in $kinds; do
  html="$out/report-$kind.html"
  png="$out/report-$kind.png"
  if [ "$kind" = loadtest ]; then  # a real run: 50 outlets, two fault classes, about a second
    timeout 60 "$syndic" loadtest --outlets 50 --items 10 --faults slow=10%,fail=10% --slow-ms 5-20 \
      --outlet-timeout-ms 300 --html "$html" >"$work/loadtest.out" 2>&1 ||
      { cat "$work/loadtest.out"; fail "syndic loadtest"; }
  else
    "$sample" "$html" "$kind"
  fi
  run_chromium --dump-dom --screenshot="$png" --window-size=1280,2000 "file://$html" \
    >"$work/dom-$kind.html" || fail "chromium ($kind)"
  [ -s "$work/dom-$kind.html" ] || fail "no DOM for $kind"
  [ -s "$png" ] || fail "no screenshot for $kind"
  # The empty page's screenshot has no chart lines to find: its DOM is what is checked.
  [ "$kind" != empty ] || png=""

  python3 - "$work/dom-$kind.html" "$png" "$kind" <<'EOF' || fail "checks ($kind)"
import re, struct, sys, zlib
from html.parser import HTMLParser

dom_path, png_path, kind = sys.argv[1:4]

# --- The DOM as Chromium built it: collect each chart's drawn elements. ---
class Charts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack = []          # open elements: (tag, chart id or None)
        self.charts = {}         # id -> list of (tag, attrs)
        self.bounds = {}
        self.text = {}
    def chart(self):
        for _, cid in reversed(self.stack):
            if cid: return cid
        return None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cid = a.get("id") if tag == "svg" and a.get("id") in ("throughput-chart", "latency-chart") else None
        if cid: self.charts[cid] = []
        c = cid or self.chart()
        if c and tag in ("path", "polyline"):
            self.charts[c].append((tag, a))
        if tag not in ("meta", "br", "hr", "img", "input", "link", "wbr"):  # HTML's void elements
            self.stack.append((tag, cid))
    def handle_endtag(self, tag):
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag: break
    def handle_data(self, data):
        c = self.chart()
        if c: self.text[c] = self.text.get(c, "") + data

dom = open(dom_path, encoding="utf-8").read()
p = Charts()
p.feed(dom)
for cid in ("throughput-chart", "latency-chart"):
    assert cid in p.charts, f"{cid} missing from the DOM"
    drawn = [(t, a) for t, a in p.charts[cid] if (a.get("d") or a.get("points") or "").strip()]
    if kind == "empty":
        assert not drawn, f"{cid}: empty report draws {len(drawn)} paths"
        assert "No data" in p.text.get(cid, ""), f"{cid}: no 'No data' note"
    else:
        assert drawn, f"{cid}: no path or polyline with d/points"
        for t, a in drawn:
            v = a.get("d") or a.get("points")
            assert not re.search(r"nan|inf", v, re.I), f"{cid}: {t} has {v[:80]}"
assert "<script" not in dom.lower(), "a script in the DOM"
if not png_path:
    print(f"{kind}: DOM charts ok")
    sys.exit(0)

# --- The screenshot: decode the PNG (8-bit RGB/RGBA, non-interlaced, as Chromium writes). ---
data = open(png_path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, ihdr = 8, b"", None
while pos < len(data):
    n, typ = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if typ == b"IHDR": ihdr = struct.unpack(">IIBBBBB", body)
    elif typ == b"IDAT": idat += body
    pos += 12 + n
w, h, depth, ctype, _, _, interlace = ihdr
assert depth == 8 and ctype in (2, 6) and interlace == 0, f"unexpected PNG format {ihdr}"
bpp = 3 if ctype == 2 else 4
raw = zlib.decompress(idat)
stride = w * bpp
rows, prev = [], bytearray(stride)
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
            pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + pr) & 255
    rows.append(bytes(line))
    prev = line
assert w == 1280, f"screenshot is {w} px wide"

def colours(y0, y1):
    seen = set()
    for y in range(max(y0, 0), min(y1, h)):
        r = rows[y]
        for x in range(0, w * bpp, bpp * 2):
            seen.add(r[x:x + 3])
    return seen

# The page is light grey with white panels: a blank area has a handful of colours; a drawn
# chart (axes, labels, antialiased lines, a filled area) has hundreds. Each chart's band is
# found by the colours its lines use: the throughput line's blue and the classes' colours.
everything = colours(0, h)
assert len(everything) > 200, f"the page has only {len(everything)} colours"
def band_with(rgb, tolerance=40):
    ys = [y for y in range(0, h, 2) for x in range(0, w * bpp, bpp * 4)
          if all(abs(rows[y][x + k] - rgb[k]) <= tolerance for k in range(3))]
    return (min(ys), max(ys)) if ys else None
if kind != "empty":
    blue = band_with((0x00, 0x72, 0xb2), 12)       # the throughput line and the first class
    orange = band_with((0xd5, 0x5e, 0x00), 12)     # the mean line and the second class
    assert blue and orange, "chart colours not found in the screenshot"
    n = len(colours(blue[0], blue[1]))
    assert n > 50, f"chart bands have only {n} colours"
print(f"{kind}: DOM charts ok, screenshot {w}x{h}, {len(everything)} colours")
EOF
done
echo "PASS"
