#include "common/dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

namespace berth {

namespace {

std::string holderOf(int fd) {
  char buf[256];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "another process";
  std::string text(buf, static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return text.empty() ? "another process" : text;
}

}  // namespace

Result<DirLock> DirLock::acquire(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "berth.lock").string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return makeError(Code::kIoError, "cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder = holderOf(fd);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return makeError(Code::kConflict, "data directory " + dir + " is in use by " + holder +
                                            " (" + path + "); one process per data directory: stop it, "
                                            "or use meta.driver postgresql for many nodes");
    }
    return makeError(Code::kIoError, "cannot lock " + path + ": " + std::strerror(err));
  }
  char host[256] = "?";
  gethostname(host, sizeof host - 1);
  char when[32] = "";
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  const std::string who = "berth pid " + std::to_string(getpid()) + " on " + host + " since " + when + "\n";
  if (ftruncate(fd, 0) != 0 || pwrite(fd, who.data(), who.size(), 0) != static_cast<ssize_t>(who.size())) {
    // The lock holds without the note; the refusal message then says "another process".
  }
  return DirLock(fd);
}

DirLock& DirLock::operator=(DirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace berth
