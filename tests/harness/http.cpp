#include "harness/http.hpp"

#include <curl/curl.h>

namespace pg_ha::test {

namespace {
size_t append(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}
}  // namespace

HttpResult http_request(const std::string& url, const std::string& body, int timeout_ms, const HttpTls& tls,
                        const std::string& extra_header) {
  HttpResult r;
  static bool inited = (curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
  if (!inited) {
    r.error = "curl_global_init failed";
    return r;
  }
  CURL* easy = curl_easy_init();
  if (!easy) {
    r.error = "curl_easy_init failed";
    return r;
  }
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  if (!extra_header.empty()) headers = curl_slist_append(headers, extra_header.c_str());
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PROXY, "");
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, long(timeout_ms));
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &append);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &r.body);
  if (!body.empty()) curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.c_str());
  if (!tls.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, tls.ca_file.c_str());
  if (!tls.cert_file.empty()) curl_easy_setopt(easy, CURLOPT_SSLCERT, tls.cert_file.c_str());
  if (!tls.key_file.empty()) curl_easy_setopt(easy, CURLOPT_SSLKEY, tls.key_file.c_str());
  CURLcode rc = curl_easy_perform(easy);
  if (rc == CURLE_OK) {
    r.ok = true;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r.status);
  } else {
    r.error = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(easy);
  return r;
}

}  // namespace pg_ha::test
