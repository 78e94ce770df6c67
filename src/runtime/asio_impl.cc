// The one translation unit that compiles Boost.Asio (with SSL) and Boost.Beast; every other file
// sees them with BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION (set by the
// mgw_asio target) and compiles only declarations.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
