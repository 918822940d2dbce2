// Shared helpers of the etcd client tests.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "etcd/client.hpp"

namespace pg_ha::etcd::testing {

inline std::unique_ptr<Client> make_client(std::vector<std::string> endpoints,
                                           const std::function<void(Options&)>& tweak = {}) {
  Options o;
  o.endpoints = std::move(endpoints);
  if (tweak) tweak(o);
  auto client = Client::create(std::move(o));
  if (!client.ok()) ADD_FAILURE() << client.error().message;
  return client.ok() ? std::move(client.value()) : nullptr;
}

inline int64_t elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since).count();
}

inline void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// Polls cond every 50 ms for up to timeout_ms.
inline bool eventually(const std::function<bool()>& cond, int timeout_ms) {
  auto start = std::chrono::steady_clock::now();
  while (elapsed_ms(start) < timeout_ms) {
    if (cond()) return true;
    sleep_ms(50);
  }
  return cond();
}

}  // namespace pg_ha::etcd::testing

#define ASSERT_OK(expr)                                              \
  do {                                                               \
    const auto& r_ = (expr);                                         \
    ASSERT_TRUE(r_.ok()) << #expr << ": " << r_.error().message;     \
  } while (0)
