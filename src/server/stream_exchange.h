#pragma once
// The Exchange over one stream type. Declared here for the server, which constructs them;
// the members are defined and instantiated (plain TCP and TLS only) in exchange.cpp.
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "server/exchange.h"

namespace berth::server {

using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

template <class Stream>
class StreamExchange final : public Exchange {
 public:
  StreamExchange(Stream& stream, boost::beast::flat_buffer& buffer, http::request_parser<http::empty_body>& parser,
                 boost::asio::thread_pool& pool, const Limits& limits, const std::atomic<bool>& draining,
                 const ConnectionInfo& conn, ConnectionScratch& scratch)
      : Exchange(buffer, parser, pool, limits, draining, conn, scratch), stream_(stream) {}

  Task<Result<std::string>> readBody(size_t limit) override;
  Task<Status> streamBody(const std::function<Status(std::string_view)>& sink) override;
  Task<void> send(Response res) override;
  Task<void> sendHeaders(http::response<http::empty_body> res, uint64_t content_length) override;
  Task<void> sendPrepared(http::status status, std::span<const PreparedField> fields,
                          std::string_view body) override;
  Task<void> sendFile(http::response<http::empty_body> res, int fd, uint64_t offset, uint64_t length) override;
  Task<void> sendRead(http::response<http::empty_body> res, const ReadAt& read, uint64_t offset,
                      uint64_t length) override;

 private:
  Task<Status> sendContinueIfExpected();
  Task<Status> streamFixedBody(uint64_t length, const std::function<Status(std::string_view)>& sink);
  // The file body after the headers, returning the bytes sent: with sendfile(2) straight
  // from the file to the socket (plain TCP), or read in chunks and written to the stream.
  Task<uint64_t> sendfileBody(int fd, uint64_t offset, uint64_t length);
  Task<uint64_t> copyFileBody(int fd, uint64_t offset, uint64_t length);
  // The TCP layer, which holds the deadlines.
  boost::beast::tcp_stream& tcp() { return boost::beast::get_lowest_layer(stream_); }

  Stream& stream_;
};

extern template class StreamExchange<PlainStream>;
extern template class StreamExchange<TlsStream>;

}  // namespace berth::server
