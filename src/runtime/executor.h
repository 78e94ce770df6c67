// The executor type of the gateway's event loops, spelled out instead of type-erased.
#pragma once

#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace mgw::runtime {

// Every coroutine, socket and timer of a worker runs on one io_context. Naming its executor type
// (instead of Asio's default any_io_executor) saves the type-erased copies, moves and
// destructions that each asynchronous operation makes of its executor: about 2,000 instructions
// per proxied request.
using Executor = boost::asio::io_context::executor_type;
template <class T>
using Awaitable = boost::asio::awaitable<T, Executor>;
inline constexpr boost::asio::use_awaitable_t<Executor> kUseAwaitable{};
// Completion as a tuple (error_code, ...): errors are values on the data path, never exceptions.
inline constexpr auto kTuple = boost::asio::as_tuple(kUseAwaitable);

using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>;
using Resolver = boost::asio::ip::basic_resolver<boost::asio::ip::tcp, Executor>;
using Timer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                boost::asio::wait_traits<std::chrono::steady_clock>,
                                                Executor>;

}  // namespace mgw::runtime
