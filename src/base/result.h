// Result<T>: a value or an Error with a human-readable message. Used on every fallible path of
// the toolkit and the runtime's control plane; nothing here throws.
#pragma once

#include <string>
#include <utility>

#include <boost/system/result.hpp>

namespace mgw::base {

// Not constructible from a string (build one with MakeError), so that a Result<std::string> can
// be returned from a plain string without ambiguity.
struct Error {
  Error() = default;
  std::string message;
};

// boost::system::result::value() throws through this overload; our code tests has_value()
// (or uses operator*) first, so reaching it is our own bug.
[[noreturn]] void throw_exception_from_error(const Error& error,
                                             const boost::source_location& location);

template <class T>
using Result = boost::system::result<T, Error>;

// A Result<void> spelled without the template noise.
using Status = boost::system::result<void, Error>;

inline Error MakeError(std::string message) {
  Error error;
  error.message = std::move(message);
  return error;
}

}  // namespace mgw::base
