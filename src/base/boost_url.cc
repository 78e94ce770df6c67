// The one translation unit that compiles Boost.URL (toolkit and runtime both parse URLs).
#include <boost/url/src.hpp>
