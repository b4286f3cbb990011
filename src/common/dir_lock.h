#pragma once
// An exclusive lock on a directory, held for the life of the process: the embedded
// engines (SQLite, the filesystem store) are one process's, and a second `berth serve` on
// the same data directory must refuse to start rather than corrupt it. flock(2) on
// DIR/berth.lock, released by the kernel when the holder exits, also on kill -9; the file
// names the holder (pid, host, start time) for the refusal message.
#include <string>

#include "common/result.h"

namespace berth {

class DirLock {
 public:
  // kConflict naming the holder when another process holds the lock; kIoError when the
  // lock file cannot be opened.
  static Result<DirLock> acquire(const std::string& dir);

  DirLock(DirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DirLock& operator=(DirLock&& other) noexcept;
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  ~DirLock();

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace berth
