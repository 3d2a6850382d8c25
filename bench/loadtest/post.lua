-- wrk's request for bench/loadtest/compare.sh: a POST of a 1 KiB JSON body, as the other
-- clients send to every outlet. At the end, one JSON line on stderr with wrk's own counts.
wrk.method = "POST"
wrk.body = "{" .. string.rep("x", 1022) .. "}"
wrk.headers["Content-Type"] = "application/json"

function done(summary, latency, requests)
  local e = summary.errors
  io.stderr:write(string.format(
    '{"requests":%d,"non_2xx_3xx":%d,"socket_errors":%d,"duration_s":%.3f,"p99_us":%d}\n',
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout,
    summary.duration / 1e6, latency:percentile(99)))
end
