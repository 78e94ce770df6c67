#include "runtime/field_scan.h"

#include <boost/beast/http/error.hpp>

#include "base/ascii.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mgw::runtime {
namespace {

namespace http = boost::beast::http;

constexpr std::size_t kMaxFoldedValue = 4096;  // Beast's max_obs_fold

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// One line's value from `p` (just past the colon, or past a fold's first blank) to its CRLF:
// sets [first, last) to the trimmed value and returns the start of the next line, or nullptr
// with `ec` set.
const char* LineValue(const char* p, const char* end, const char*& first, const char*& last,
                      boost::system::error_code& ec) {
  while (p < end && IsBlank(*p)) {
    ++p;
  }
  first = p;
  const char* control = FindFieldControl(p, end);
  if (control == end) {
    ec = http::error::need_more;  // the line does not end in what has arrived
    return nullptr;
  }
  if (*control != '\r') {
    ec = http::error::bad_value;  // a control character or a bare LF
    return nullptr;
  }
  if (control + 1 == end) {
    ec = http::error::need_more;
    return nullptr;
  }
  if (control[1] != '\n') {
    ec = http::error::bad_line_ending;
    return nullptr;
  }
  last = control;
  while (last > first && IsBlank(last[-1])) {
    --last;
  }
  return control + 2;
}

}  // namespace

const char* FindHeadEnd(const char* p, const char* end) {
  // Finds each LF (16 bytes at a time, 64-byte spans without one skipped at once) and looks at its
  // neighbours: CR LF CR LF.
  const char* const begin = p;
  const auto at = [begin, end](const char* lf) {
    return lf > begin && end - lf >= 3 && lf[-1] == '\r' && lf[1] == '\r' && lf[2] == '\n';
  };
#if defined(__SSE2__)
  const __m128i lf = _mm_set1_epi8('\n');
  const auto lf_mask = [lf](const char* at16) {
    return _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at16)), lf);
  };
  while (end - p >= 16) {
    if (end - p >= 64) {
      const __m128i any = _mm_or_si128(_mm_or_si128(lf_mask(p), lf_mask(p + 16)),
                                       _mm_or_si128(lf_mask(p + 32), lf_mask(p + 48)));
      if (_mm_movemask_epi8(any) == 0) {
        p += 64;
        continue;
      }
    }
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(lf_mask(p)));
    while (mask != 0) {
      const char* hit = p + __builtin_ctz(mask);
      if (at(hit)) {
        return hit - 1;
      }
      mask &= mask - 1;
    }
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    if (*p == '\n' && at(p)) {
      return p - 1;
    }
  }
  return end;
}

const char* FindFieldControl(const char* p, const char* end) {
#if defined(__SSE2__)
  // 64 bytes at a time, a rough test first: after adding 1 (mod 256), every byte that may be a
  // hit (0x00-0x1f, 0x7f) is at most 0x20 as a signed byte; so are HTAB and obs-text (0x80-0xfe,
  // and 0xff), rare in field values, which the exact 16-byte test below then tells apart. (Written
  // as "every byte above 0x20", which SSE2 has as one compare.)
  const __m128i one = _mm_set1_epi8(1);
  const __m128i rough_limit = _mm_set1_epi8(0x20);
  const auto clear = [one, rough_limit](const char* at16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at16));
    return _mm_cmpgt_epi8(_mm_add_epi8(bytes, one), rough_limit);
  };
  const __m128i max_control = _mm_set1_epi8(0x1f);
  const __m128i del = _mm_set1_epi8(0x7f);
  const __m128i tab = _mm_set1_epi8('\t');
  while (end - p >= 16) {
    if (end - p >= 64) {
      const __m128i all = _mm_and_si128(_mm_and_si128(clear(p), clear(p + 16)),
                                        _mm_and_si128(clear(p + 32), clear(p + 48)));
      if (_mm_movemask_epi8(all) == 0xffff) {
        p += 64;
        continue;
      }
    }
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // bytes <= 0x1f (unsigned) exactly when min(bytes, 0x1f) == bytes.
    const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(bytes, max_control), bytes);
    const __m128i hit = _mm_andnot_si128(_mm_cmpeq_epi8(bytes, tab),
                                         _mm_or_si128(control, _mm_cmpeq_epi8(bytes, del)));
    if (const int mask = _mm_movemask_epi8(hit); mask != 0) {
      return p + __builtin_ctz(static_cast<unsigned>(mask));
    }
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      return p;
    }
  }
  return end;
}

bool NextField(const char*& p, const char* end, std::string_view& name, std::string_view& value,
               std::pmr::string& fold, boost::system::error_code& ec) {
  ec = {};
  if (p < end && *p == '\r') {
    if (end - p < 2) {
      ec = http::error::need_more;
    } else if (p[1] != '\n') {
      ec = http::error::bad_line_ending;
    } else {
      p += 2;
    }
    return false;
  }
  const char* q = p;
  while (q < end && base::IsTokenChar(*q)) {
    ++q;
  }
  if (q == end) {
    ec = http::error::need_more;
    return false;
  }
  if (q == p || *q != ':') {
    ec = http::error::bad_field;
    return false;
  }
  const char* first = nullptr;
  const char* last = nullptr;
  const char* next = LineValue(q + 1, end, first, last, ec);
  if (next == nullptr) {
    return false;
  }
  if (next < end && !IsBlank(*next)) {
    name = std::string_view(p, static_cast<std::size_t>(q - p));
    value = std::string_view(first, static_cast<std::size_t>(last - first));
    p = next;
    return true;
  }
  // obs-fold (RFC 9112 5.2): join the non-empty parts with single spaces, as Beast does.
  fold.assign(first, last);
  while (next < end && IsBlank(*next)) {
    next = LineValue(next + 1, end, first, last, ec);
    if (next == nullptr) {
      return false;
    }
    if (first != last) {
      if (!fold.empty()) {
        fold.push_back(' ');
      }
      fold.append(first, last);
    }
    if (fold.size() > kMaxFoldedValue) {
      ec = http::error::header_limit;
      return false;
    }
  }
  if (next == end) {
    ec = http::error::need_more;  // whether the next line continues this one is not known yet
    return false;
  }
  name = std::string_view(p, static_cast<std::size_t>(q - p));
  value = fold;
  p = next;
  return true;
}

}  // namespace mgw::runtime
