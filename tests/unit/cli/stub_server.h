#pragma once
// A stub HTTP server for the client tests: on 127.0.0.1, a free port, it answers one
// connection per canned reply, in order, and records each request.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace berth::cli::testing {

struct StubReply {
  int status = 200;
  std::string body;
};

struct SeenRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  std::string header(std::string name) const {
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return {};
  }
};

class StubServer {
 public:
  explicit StubServer(std::vector<StubReply> replies) : replies_(std::move(replies)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listener_, 8);
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~StubServer() {
    thread_.join();
    ::close(listener_);
  }
  StubServer(const StubServer&) = delete;
  StubServer& operator=(const StubServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string authority() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<SeenRequest> requests() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  void serve() {
    for (const auto& reply : replies_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0) return;  // the client never came: give up
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      SeenRequest request = readRequest(fd);
      {
        std::lock_guard lock(mu_);
        seen_.push_back(std::move(request));
      }
      std::string response = "HTTP/1.1 " + std::to_string(reply.status) + " Stub\r\n" +
                             "Content-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                             std::to_string(reply.body.size()) + "\r\n\r\n" + reply.body;
      ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
      ::close(fd);
    }
  }

  static SeenRequest readRequest(int fd) {
    std::string data;
    char buf[4096];
    size_t header_end = std::string::npos;
    while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return {};
      data.append(buf, size_t(n));
    }
    SeenRequest request;
    std::string head = data.substr(0, header_end);
    size_t line_end = head.find("\r\n");
    std::string first = head.substr(0, line_end);
    request.method = first.substr(0, first.find(' '));
    request.target = first.substr(request.method.size() + 1, first.rfind(' ') - request.method.size() - 1);
    size_t content_length = 0;
    for (size_t pos = line_end; pos != std::string::npos && pos < head.size();) {
      size_t next = head.find("\r\n", pos + 2);
      std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      pos = next;
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      size_t value_start = line.find_first_not_of(' ', colon + 1);
      std::string value = value_start == std::string::npos ? std::string() : line.substr(value_start);
      if (name == "content-length") content_length = std::stoul(value);
      request.headers.emplace_back(name, value);
    }
    request.body = data.substr(header_end + 4);
    while (request.body.size() < content_length) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.body.append(buf, size_t(n));
    }
    return request;
  }

  std::vector<StubReply> replies_;
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<SeenRequest> seen_;
};

}  // namespace berth::cli::testing
