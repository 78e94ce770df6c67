#include "runtime/io_deadline.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

namespace mgw::runtime {
namespace {

namespace net = boost::asio;
using net::ip::tcp;
using std::chrono::milliseconds;

// A connected loopback pair: `client` (the stream under test) and `server` (the peer).
class IoDeadlineTest : public ::testing::Test {
 protected:
  IoDeadlineTest() : acceptor_(io_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)),
                     client_(io_), server_(io_) {
    client_.connect(acceptor_.local_endpoint());
    acceptor_.accept(server_);
  }

  // Starts a one-byte read on the client; its outcome lands in read_error_ / read_done_. The
  // deadline is cleared when the read ends, as the gateway does after each operation.
  void StartRead(IoDeadline& deadline) {
    client_.async_read_some(net::buffer(&byte_, 1),
                            [this, &deadline](const boost::system::error_code& error, std::size_t) {
                              deadline.Clear();
                              read_error_ = error;
                              read_done_ = true;
                            });
  }

  // The server sends one byte after `delay`.
  void SendAfter(milliseconds delay) {
    sender_.expires_after(delay);
    sender_.async_wait([this](const boost::system::error_code&) { net::write(server_, net::buffer("x", 1)); });
  }

  net::io_context io_;
  Acceptor acceptor_;
  Socket client_;
  Socket server_;
  Timer sender_{io_};
  char byte_ = 0;
  boost::system::error_code read_error_;
  bool read_done_ = false;
};

TEST_F(IoDeadlineTest, APassedDeadlineClosesTheSocketAndFailsThePendingRead) {
  IoDeadline deadline(client_);
  deadline.Set(milliseconds(20));
  StartRead(deadline);
  io_.run_for(std::chrono::seconds(10));
  ASSERT_TRUE(read_done_);
  EXPECT_TRUE(read_error_);
  EXPECT_TRUE(deadline.Expired());
  EXPECT_FALSE(client_.is_open());
}

TEST_F(IoDeadlineTest, AClearedDeadlineNeverClosesTheSocket) {
  IoDeadline deadline(client_);
  deadline.Set(milliseconds(10));
  deadline.Clear();
  StartRead(deadline);
  SendAfter(milliseconds(200));
  io_.run_for(std::chrono::seconds(10));
  ASSERT_TRUE(read_done_);
  EXPECT_FALSE(read_error_) << read_error_.message();
  EXPECT_EQ(byte_, 'x');
  EXPECT_FALSE(deadline.Expired());
}

TEST_F(IoDeadlineTest, AShorterDeadlineReplacesALongerOne) {
  IoDeadline deadline(client_);
  deadline.Set(std::chrono::hours(1));
  deadline.Set(milliseconds(20));
  StartRead(deadline);
  io_.run_for(std::chrono::seconds(10));  // with the hour still in force, the read would not end
  ASSERT_TRUE(read_done_);
  EXPECT_TRUE(deadline.Expired());
}

TEST_F(IoDeadlineTest, ADeadlineMovedLaterIsWaitedFor) {
  IoDeadline deadline(client_);
  deadline.Set(milliseconds(10));  // the timer is armed for 10 ms ...
  deadline.Set(std::chrono::seconds(1));  // ... and re-arms itself when it finds the new deadline
  StartRead(deadline);
  SendAfter(milliseconds(100));
  io_.run_for(std::chrono::seconds(10));
  ASSERT_TRUE(read_done_);
  EXPECT_FALSE(read_error_) << read_error_.message();
  EXPECT_FALSE(deadline.Expired());
}

TEST_F(IoDeadlineTest, DestroyedWithAPendingWakeUpLeavesTheSocketAlone) {
  {
    IoDeadline deadline(client_);
    deadline.Set(milliseconds(1));
  }
  io_.run_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(client_.is_open());
}

}  // namespace
}  // namespace mgw::runtime
