#pragma once
// A test VFS wrapping SQLite's default one, to make writes fail the way a full disk does.
// Install it before opening a store (the VFS is chosen when a connection opens) and keep
// it installed until that store is closed.

namespace berth::meta::testing {

enum class WriteFault {
  kNone,
  kFull,    // xWrite returns SQLITE_FULL, as the unix VFS does on ENOSPC
  kEnospc,  // xWrite returns SQLITE_IOERR_WRITE and the VFS's last error is ENOSPC
};

class FaultVfs {
 public:
  FaultVfs();   // registers itself as the default VFS
  ~FaultVfs();  // restores the previous default
  FaultVfs(const FaultVfs&) = delete;
  FaultVfs& operator=(const FaultVfs&) = delete;

  static void setWriteFault(WriteFault fault);
};

}  // namespace berth::meta::testing
