// The one translation unit that compiles Boost.JSON (header-only mode would compile it in every
// file that includes it).
#include <boost/json/src.hpp>
