#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace berth {
namespace {

Error ioError(std::string_view what, const std::string& path, int err) {
  return makeError(Code::kIoError, std::string(what) + " " + path + ": " + std::strerror(err));
}

}  // namespace

Status writeFileAtomic(const std::string& path, std::string_view data) {
  std::filesystem::path target(path);
  std::filesystem::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::string temp = (dir / ("." + target.filename().string() + ".XXXXXX")).string();
  int fd = ::mkstemp(temp.data());  // created 0600
  if (fd < 0) return ioError("cannot create a temporary file in", dir.string(), errno);
  auto fail = [&](Error error) {
    ::close(fd);
    ::unlink(temp.c_str());
    return error;
  };
  if (::fchmod(fd, 0600) != 0) return fail(ioError("cannot chmod", temp, errno));
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ioError("cannot write", temp, errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  if (::fsync(fd) != 0) return fail(ioError("cannot sync", temp, errno));
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return ioError("cannot write", temp, err);
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return ioError("cannot replace", target.string(), err);
  }
  // The rename is durable once the directory is.
  if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return okStatus();
}

}  // namespace berth
