// For tests: an Event that carries its correlation id. An Event only points at its texts; this one
// keeps the id and points the event at it when it is handed over, e.g. queue.Push(Numbered(n)),
// so that it may be built in a function and returned.
#pragma once

#include <string>
#include <utility>

#include "analytics/event.h"

namespace mgw::analytics {

class EventWithId {
 public:
  EventWithId(std::string id, const Event& event) : id_(std::move(id)), event_(event) {}
  operator const Event&() {
    event_.correlation_id = id_;
    return event_;
  }

 private:
  std::string id_;
  Event event_;
};

}  // namespace mgw::analytics
