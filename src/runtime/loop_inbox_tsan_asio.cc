// Asio's separately compiled part, built again with ThreadSanitizer for mgw_loop_inbox_tsan_test
// (see CMakeLists.txt): every object of a sanitized binary must be instrumented.
#include <boost/asio/impl/src.hpp>
