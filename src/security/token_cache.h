// A bounded LRU cache from a credential (token text) to its validated Principal. One per worker
// thread: no locking. A hit still honours the principal's expiry, so a cached token stops
// working at `exp` exactly as an uncached one would.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "security/principal.h"

namespace mgw::security {

// XXH3 of the token (xxHash): a 700-byte JWT hashes in about a tenth of std::hash's instructions.
// Seeded at random per process (std::hash is not seeded at all).
std::size_t HashToken(std::string_view token);

class TokenCache {
 public:
  explicit TokenCache(std::size_t capacity) : capacity_(capacity) {}

  // The cached principal for `token`, or nullptr (also when it expired: it is then dropped).
  // `valid_until` of an entry is its own limit (e.g. an introspection cache TTL), in seconds.
  std::shared_ptr<const Principal> Find(std::string_view token, std::int64_t now,
                                        std::int64_t skew_s) {
    negative_ = false;
    auto it = index_.find(token);
    if (it == index_.end()) {
      return nullptr;
    }
    Entry& entry = *it->second;
    const bool expired = (entry.principal && Expired(*entry.principal, now, skew_s)) ||
                         (entry.valid_until != 0 && now >= entry.valid_until);
    if (expired) {
      Erase(it);
      return nullptr;
    }
    entries_.splice(entries_.begin(), entries_, it->second);
    negative_ = entry.principal == nullptr;
    return entry.principal;
  }

  // True when `principal`'s token has expired at `now` (give or take `skew_s`), as Find judges.
  static bool Expired(const Principal& principal, std::int64_t now, std::int64_t skew_s) {
    return principal.expires_at != 0 && now >= principal.expires_at + skew_s;
  }

  // True when the last Find() hit a negative entry (a token known to be invalid).
  bool LastWasNegative() const { return negative_; }
  bool Contains(std::string_view token) const { return index_.contains(token); }

  // Caches `principal` (nullptr = known invalid) until its expiry and `valid_until` (0 = none).
  void Insert(std::string token, std::shared_ptr<const Principal> principal,
              std::int64_t valid_until = 0) {
    if (capacity_ == 0) {
      return;
    }
    if (auto it = index_.find(std::string_view(token)); it != index_.end()) {
      Erase(it);
    }
    if (entries_.size() >= capacity_) {
      auto last = std::prev(entries_.end());
      index_.erase(std::string_view(last->token));
      entries_.erase(last);
    }
    entries_.push_front(Entry{std::move(token), std::move(principal), valid_until});
    index_.emplace(std::string_view(entries_.front().token), entries_.begin());
  }

  std::size_t Size() const { return entries_.size(); }

  void Clear() {
    index_.clear();
    entries_.clear();
    negative_ = false;
  }

 private:
  struct Entry {
    std::string token;
    std::shared_ptr<const Principal> principal;
    std::int64_t valid_until = 0;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return HashToken(s); }
  };
  using Index = std::unordered_map<std::string_view, std::list<Entry>::iterator, Hash, std::equal_to<>>;

  void Erase(Index::iterator it) {
    auto entry = it->second;
    index_.erase(it);
    entries_.erase(entry);
  }

  std::size_t capacity_;
  std::list<Entry> entries_;
  Index index_;
  bool negative_ = false;
};

}  // namespace mgw::security
