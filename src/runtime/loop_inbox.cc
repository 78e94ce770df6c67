#include "runtime/loop_inbox.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <utility>

#include <boost/asio/post.hpp>

#include "base/log.h"

namespace mgw::runtime {

namespace net = boost::asio;

net::execution_context::id LoopInbox::id;

namespace {

int NewEventFd() {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) {
    base::LogError("cannot create an eventfd for a worker's loop");
    std::abort();  // at start only: without it no loop could ever be stopped
  }
  return fd;
}

}  // namespace

LoopInbox::LoopInbox(net::execution_context& context)
    : net::execution_context::service(context),
      wake_(static_cast<net::io_context&>(context), NewEventFd()) {}

LoopInbox::~LoopInbox() = default;

LoopInbox& LoopInbox::Open(net::io_context& loop) {
  auto& inbox = net::use_service<LoopInbox>(loop);
  inbox.Wait();
  return inbox;
}

void LoopInbox::Post(std::unique_ptr<LoopTask> task) {
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    first = queue_.empty();
    queue_.push_back(std::move(task));
  }
  if (first) {
    const std::uint64_t one = 1;
    // EAGAIN only if the counter is near overflow: the loop is woken anyway.
    [[maybe_unused]] const auto written = ::write(wake_.native_handle(), &one, sizeof one);
  }
}

void LoopInbox::Wait() {
  wake_.async_wait(net::posix::stream_descriptor::wait_read, [this](boost::system::error_code error) {
    if (error) {
      return;  // the loop is being destroyed
    }
    std::uint64_t count = 0;
    [[maybe_unused]] const auto got = ::read(wake_.native_handle(), &count, sizeof count);
    RunQueued();
    Wait();
  });
}

void LoopInbox::RunQueued() {
  std::vector<std::unique_ptr<LoopTask>> ready;
  {
    std::lock_guard lock(mutex_);
    ready.swap(queue_);
  }
  for (auto& task : ready) {
    task->Run();
  }
}

void LoopInbox::shutdown() {
  std::vector<std::unique_ptr<LoopTask>> dropped;
  {
    std::lock_guard lock(mutex_);
    dropped.swap(queue_);
  }
}

void HandToLoop(net::io_context& loop, std::unique_ptr<LoopTask> task) {
  if (net::has_service<LoopInbox>(loop)) {
    net::use_service<LoopInbox>(loop).Post(std::move(task));
    return;
  }
  // A loop without an inbox (tests) keeps Asio's locks: its own post is safe.
  net::post(loop, [task = std::move(task)] { task->Run(); });
}

}  // namespace mgw::runtime
