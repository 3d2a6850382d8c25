// A baseline of bench/delivery/compare.sh and compare_tls.sh: a plain curl_multi_perform loop
// POSTing the same 1 KiB JSON body to every URL of a list, one request in flight per URL at a
// time, one easy handle per transfer, as a straightforward libcurl program would. https URLs
// are verified against the system's CAs or --cacert FILE.
//
//   curl_multi_loop URLS_FILE ITEMS_PER_URL [dns_cache_forever] [no_capath] [--cacert FILE]
//
// no_capath unsets the CA directory that Debian's libcurl has built in (/etc/ssl/certs):
// libcurl caches the CA store it read from a file only when no directory is set
// (CURLOPT_CA_CACHE_TIMEOUT); otherwise every new connection reads and parses it again.
//
// Prints one JSON line: delivered, failed, connections (libcurl's CURLINFO_NUM_CONNECTS,
// summed), elapsed, deliveries/s.

#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

static std::size_t discard(char*, std::size_t s, std::size_t n, void*) { return s * n; }

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s URLS_FILE ITEMS_PER_URL [dns_cache_forever] [no_capath] [--cacert FILE]\n", argv[0]);
    return 2;
  }
  std::vector<std::string> urls;
  std::ifstream in(argv[1]);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) urls.push_back(line);
  int items = std::atoi(argv[2]);
  bool dns_forever = false, no_capath = false;
  const char* ca_file = nullptr;
  for (int a = 3; a < argc; ++a) {
    if (std::string(argv[a]) == "dns_cache_forever") dns_forever = true;
    else if (std::string(argv[a]) == "no_capath") no_capath = true;
    else if (std::string(argv[a]) == "--cacert" && a + 1 < argc) ca_file = argv[++a];
    else {
      std::fprintf(stderr, "curl_multi_loop: unknown argument %s\n", argv[a]);
      return 2;
    }
  }
  std::string body(1024, 'x');
  body.front() = '{';
  body.back() = '}';
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  std::vector<int> remaining(urls.size(), items);
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");
  auto start_one = [&](std::size_t i) {
    CURL* e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, urls[i].c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PRIVATE, reinterpret_cast<void*>(i));
    if (dns_forever) curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, -1L);
    if (ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
    if (no_capath) curl_easy_setopt(e, CURLOPT_CAPATH, nullptr);
    curl_multi_add_handle(multi, e);
  };
  auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < urls.size(); ++i) start_one(i);
  long done = 0, failed = 0, connections = 0;
  int running = 1;
  while (running) {
    curl_multi_perform(multi, &running);
    int left;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      CURL* e = m->easy_handle;
      long code = 0;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
      void* priv = nullptr;
      curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
      std::size_t i = reinterpret_cast<std::size_t>(priv);
      long opened = 0;
      curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &opened);
      connections += opened;
      if (m->data.result != CURLE_OK && failed < 3)
        std::fprintf(stderr, "curl_multi_loop: %s\n", curl_easy_strerror(m->data.result));
      if (m->data.result == CURLE_OK && code / 100 == 2) ++done; else ++failed;
      curl_multi_remove_handle(multi, e);
      curl_easy_cleanup(e);
      if (--remaining[i] > 0) {
        start_one(i);
        running = 1;
      }
    }
    if (running) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"delivered\":%ld,\"failed\":%ld,\"connections\":%ld,\"elapsed_s\":%.3f,\"deliveries_per_s\":%.0f}\n",
              done, failed, connections, s, done / s);
  curl_multi_cleanup(multi);
  return failed ? 1 : 0;
}
