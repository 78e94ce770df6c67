// The one translation unit that compiles Boost.URL for the toolkit.
#include <boost/url/src.hpp>
