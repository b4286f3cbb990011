#include "sqlite_fault_vfs.h"

#include <sqlite3.h>

#include <atomic>
#include <cerrno>
#include <cstddef>

namespace berth::meta::testing {
namespace {

std::atomic<WriteFault> g_fault{WriteFault::kNone};
sqlite3_vfs* g_real = nullptr;
sqlite3_vfs g_vfs{};

// Our file header; the real VFS's file follows it in the same allocation.
struct File {
  sqlite3_file base;
  alignas(std::max_align_t) unsigned char pad[1];
};
constexpr size_t kRealOffset = offsetof(File, pad);

sqlite3_file* real(sqlite3_file* f) {
  return reinterpret_cast<sqlite3_file*>(reinterpret_cast<unsigned char*>(f) + kRealOffset);
}
const sqlite3_io_methods* rm(sqlite3_file* f) { return real(f)->pMethods; }

int xClose(sqlite3_file* f) { return rm(f)->xClose(real(f)); }
int xRead(sqlite3_file* f, void* p, int n, sqlite3_int64 off) {
  return rm(f)->xRead(real(f), p, n, off);
}
int xWrite(sqlite3_file* f, const void* p, int n, sqlite3_int64 off) {
  switch (g_fault.load()) {
    case WriteFault::kFull:
      return SQLITE_FULL;
    case WriteFault::kEnospc:
      errno = ENOSPC;
      return SQLITE_IOERR_WRITE;
    case WriteFault::kNone:
      break;
  }
  return rm(f)->xWrite(real(f), p, n, off);
}
int xTruncate(sqlite3_file* f, sqlite3_int64 size) { return rm(f)->xTruncate(real(f), size); }
int xSync(sqlite3_file* f, int flags) { return rm(f)->xSync(real(f), flags); }
int xFileSize(sqlite3_file* f, sqlite3_int64* size) { return rm(f)->xFileSize(real(f), size); }
int xLock(sqlite3_file* f, int lock) { return rm(f)->xLock(real(f), lock); }
int xUnlock(sqlite3_file* f, int lock) { return rm(f)->xUnlock(real(f), lock); }
int xCheckReservedLock(sqlite3_file* f, int* out) {
  return rm(f)->xCheckReservedLock(real(f), out);
}
int xFileControl(sqlite3_file* f, int op, void* arg) {
  return rm(f)->xFileControl(real(f), op, arg);
}
int xSectorSize(sqlite3_file* f) { return rm(f)->xSectorSize(real(f)); }
int xDeviceCharacteristics(sqlite3_file* f) { return rm(f)->xDeviceCharacteristics(real(f)); }
int xShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return rm(f)->xShmMap(real(f), page, size, extend, out);
}
int xShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return rm(f)->xShmLock(real(f), offset, n, flags);
}
void xShmBarrier(sqlite3_file* f) { rm(f)->xShmBarrier(real(f)); }
int xShmUnmap(sqlite3_file* f, int del) { return rm(f)->xShmUnmap(real(f), del); }
int xFetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
  return rm(f)->xFetch(real(f), off, n, out);
}
int xUnfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return rm(f)->xUnfetch(real(f), off, p);
}

// The unix VFS's files implement version 3 of the methods.
const sqlite3_io_methods kMethods = {3,
                                     xClose,
                                     xRead,
                                     xWrite,
                                     xTruncate,
                                     xSync,
                                     xFileSize,
                                     xLock,
                                     xUnlock,
                                     xCheckReservedLock,
                                     xFileControl,
                                     xSectorSize,
                                     xDeviceCharacteristics,
                                     xShmMap,
                                     xShmLock,
                                     xShmBarrier,
                                     xShmUnmap,
                                     xFetch,
                                     xUnfetch};

int xOpen(sqlite3_vfs*, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  const int rc = g_real->xOpen(g_real, name, real(f), flags, out_flags);
  f->pMethods = real(f)->pMethods != nullptr ? &kMethods : nullptr;
  return rc;
}

int xGetLastError(sqlite3_vfs*, int n, char* buf) {
  if (g_fault.load() == WriteFault::kEnospc) return ENOSPC;
  return g_real->xGetLastError(g_real, n, buf);
}

}  // namespace

FaultVfs::FaultVfs() {
  g_real = sqlite3_vfs_find(nullptr);
  g_vfs = *g_real;
  g_vfs.zName = "berth-fault";
  g_vfs.szOsFile = static_cast<int>(kRealOffset) + g_real->szOsFile;
  g_vfs.pNext = nullptr;
  g_vfs.xOpen = xOpen;
  g_vfs.xGetLastError = xGetLastError;
  sqlite3_vfs_register(&g_vfs, 1);
}

FaultVfs::~FaultVfs() {
  g_fault = WriteFault::kNone;
  sqlite3_vfs_unregister(&g_vfs);
  sqlite3_vfs_register(g_real, 1);
}

void FaultVfs::setWriteFault(WriteFault fault) { g_fault = fault; }

}  // namespace berth::meta::testing
