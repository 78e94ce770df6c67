// NextField: splits the header fields of a complete message head, scanning values 16 bytes at a time.
#pragma once

#include <cstddef>
#include <string>
#include <memory_resource>
#include <string_view>

#include <boost/system/error_code.hpp>

namespace mgw::runtime {

// Reads the field line at `p` and moves `p` past it and past any lines folded into it. Returns
// false, with `p` past the empty line, when `p` is at the empty line that ends a head; false with
// need_more when the bytes up to `end` do not hold the whole line and the first byte after it
// (which tells whether the next line is folded into this one). The rules and error codes are
// Beast's basic_parser's, so that a head splits into the same fields either way:
//   name   one or more tchars, then ':' (else bad_field);
//   value  leading and trailing SP/HTAB dropped; any control character other than HTAB, or DEL,
//          is bad_value; a CR not followed by LF is bad_line_ending (a bare LF is bad_value);
//   obs-fold  a line starting with SP or HTAB continues the value before it: the non-empty parts
//          are joined by single spaces in `fold`, which `value` then views; a joined value over
//          4,096 bytes is header_limit.
// Otherwise `name` and `value` view the input.
bool NextField(const char*& p, const char* end, std::string_view& name, std::string_view& value,
               std::pmr::string& fold, boost::system::error_code& ec);

// Where the first "\r\n\r\n" in [p, end) starts, or `end` if there is none.
const char* FindHeadEnd(const char* p, const char* end);

// The first byte in [p, end) that is a control character other than HTAB, or DEL; `end` if none.
const char* FindFieldControl(const char* p, const char* end);

}  // namespace mgw::runtime
