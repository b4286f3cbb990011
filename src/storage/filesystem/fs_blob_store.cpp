#include "storage/filesystem/fs_blob_store.h"

#include <sys/statvfs.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <system_error>
#include <utility>

#include "storage/blob_layout.h"

namespace berth::storage {
namespace {

constexpr size_t kHashChunk = 1 << 20;
constexpr uint64_t kMaxOffset = static_cast<uint64_t>(std::numeric_limits<off_t>::max());
constexpr oci::DigestAlgorithm kAlgorithms[] = {oci::DigestAlgorithm::kSha256,
                                                oci::DigestAlgorithm::kSha512};

Error errnoError(int err, std::string_view op, const std::string& rel) {
  if (err == ENOSPC || err == EDQUOT) return makeError(Code::kStorageFull, "storage is full");
  return makeError(Code::kIoError,
                   std::string(op) + " " + rel + ": " + std::system_category().message(err));
}

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // close(2) is not retried on EINTR: on Linux the descriptor is gone either way.
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

int openRetry(const char* path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path, flags, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

Status fsyncFd(int fd, const std::string& rel) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return errnoError(errno, "fsync", rel);
  }
  return okStatus();
}

Status fsyncDir(const std::string& abs, const std::string& rel) {
  Fd fd(openRetry(abs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return errnoError(errno, "open", rel);
  return fsyncFd(fd.get(), rel);
}

// Writes all of `data` at `offset`, retrying EINTR and short writes. `written` counts the
// bytes that reached the file, also when an error stops the loop.
Status pwriteAll(int fd, std::string_view data, uint64_t offset, const std::string& rel,
                 uint64_t& written) {
  written = 0;
  while (written < data.size()) {
    size_t chunk = data.size() - written;
    ssize_t n = ::pwrite(fd, data.data() + written, chunk, static_cast<off_t>(offset + written));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoError(errno, "write", rel);
    }
    if (n == 0) return errnoError(EIO, "write", rel);
    written += static_cast<uint64_t>(n);
  }
  return okStatus();
}

// Reads up to `len` bytes at `offset`, stopping early only at end of file.
Result<size_t> preadFull(int fd, void* buf, size_t len, uint64_t offset, const std::string& rel) {
  size_t done = 0;
  while (done < len) {
    ssize_t n =
        ::pread(fd, static_cast<char*>(buf) + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoError(errno, "read", rel);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

// Upload files are opened O_NOFOLLOW: a symlink planted in uploads/ is never followed.

// mkdir that reports whether it created the directory.
Status makeDir(const std::string& abs, const std::string& rel, bool& created) {
  created = false;
  if (::mkdir(abs.c_str(), 0755) == 0) {
    created = true;
    return okStatus();
  }
  if (errno == EEXIST) {
    struct stat st;
    if (::stat(abs.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return okStatus();
    return makeError(Code::kIoError, "mkdir " + rel + ": exists and is not a directory");
  }
  return errnoError(errno, "mkdir", rel);
}

std::string hexPrefix(unsigned i) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string{kHex[i >> 4], kHex[i & 0xf]};
}

class FsBlobReader : public BlobReader {
 public:
  FsBlobReader(Fd fd, uint64_t size, std::string rel)
      : fd_(std::move(fd)), size_(size), rel_(std::move(rel)) {}
  uint64_t size() const override { return size_; }
  int fd() const override { return fd_.get(); }
  Result<size_t> readAt(uint64_t offset, void* buf, size_t len) override {
    if (offset >= size_ || len == 0) return size_t{0};
    if (len > size_ - offset) len = static_cast<size_t>(size_ - offset);
    return preadFull(fd_.get(), buf, len, offset, rel_);
  }

 private:
  Fd fd_;
  uint64_t size_;
  std::string rel_;
};

class FsUploadWriter : public UploadWriter {
 public:
  FsUploadWriter(Fd fd, uint64_t size, std::string rel, std::string dir_abs, bool created)
      : fd_(std::move(fd)),
        size_(size),
        rel_(std::move(rel)),
        dir_abs_(std::move(dir_abs)),
        dir_needs_sync_(created),
        writeback_from_(size) {}

  Status write(std::string_view data) override {
    if (data.empty()) return okStatus();
    if (data.size() > kMaxOffset - size_) {
      return makeError(Code::kTooLarge, "upload would exceed the largest file size");
    }
    uint64_t written = 0;
    Status s = pwriteAll(fd_.get(), data, size_, rel_, written);
    size_ += written;  // what reached the file, so size() stays truthful after an error
    if (s && size_ - writeback_from_ >= kWritebackChunk) {
      // Start writeback of what arrived so far without waiting for it, so the fsync at
      // the end of a large upload finds most bytes already on disk instead of paying
      // for all of them at once.
      ::sync_file_range(fd_.get(), static_cast<off_t>(writeback_from_),
                        static_cast<off_t>(size_ - writeback_from_), SYNC_FILE_RANGE_WRITE);
      writeback_from_ = size_;
    }
    return s;
  }

  uint64_t size() const override { return size_; }

  Status sync() override {
    if (Status s = fsyncFd(fd_.get(), rel_); !s) return s;
    // A new file's directory entry is durable only once its directory is fsynced.
    if (dir_needs_sync_) {
      if (Status s = fsyncDir(dir_abs_, "uploads"); !s) return s;
      dir_needs_sync_ = false;
    }
    return okStatus();
  }

 private:
  Fd fd_;
  uint64_t size_;
  std::string rel_;
  std::string dir_abs_;
  bool dir_needs_sync_;
  uint64_t writeback_from_;  // first byte whose writeback has not been started
  static constexpr uint64_t kWritebackChunk = 8 * 1024 * 1024;
};

}  // namespace

Result<std::unique_ptr<FsBlobStore>> FsBlobStore::open(const std::string& root_dir) {
  std::string root = root_dir;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (root.empty()) return makeError(Code::kInvalidArgument, "blob store root is empty");

  // Create the root and its parents (mkdir -p).
  for (size_t pos = 1; pos <= root.size(); ++pos) {
    if (pos != root.size() && root[pos] != '/') continue;
    std::string prefix = root.substr(0, pos);
    bool created = false;
    if (Status s = makeDir(prefix, prefix, created); !s) return s.takeError();
  }

  // Every directory a write can need is made here, before the store is handed out, so
  // concurrent writers never race on creating (and fsyncing) a new parent directory.
  std::unique_ptr<FsBlobStore> store(new FsBlobStore(root));
  bool root_changed = false;
  for (const char* dir : {"blobs", "uploads", "tmp"}) {
    bool created = false;
    if (Status s = makeDir(store->abs(dir), dir, created); !s) return s.takeError();
    root_changed |= created;
  }
  bool blobs_changed = false;
  for (oci::DigestAlgorithm alg : kAlgorithms) {
    std::string alg_rel = "blobs/" + std::string(oci::algorithmName(alg));
    bool created = false;
    if (Status s = makeDir(store->abs(alg_rel), alg_rel, created); !s) return s.takeError();
    blobs_changed |= created;
    bool alg_changed = false;
    for (unsigned i = 0; i < 256; ++i) {
      std::string rel = alg_rel + "/" + hexPrefix(i);
      if (Status s = makeDir(store->abs(rel), rel, created); !s) return s.takeError();
      alg_changed |= created;
    }
    if (alg_changed) {
      if (Status s = fsyncDir(store->abs(alg_rel), alg_rel); !s) return s.takeError();
    }
  }
  if (blobs_changed) {
    if (Status s = fsyncDir(store->abs("blobs"), "blobs"); !s) return s.takeError();
  }
  if (root_changed) {
    if (Status s = fsyncDir(root, "."); !s) return s.takeError();
  }
  return store;
}

std::string FsBlobStore::blobRelPath(const oci::Digest& digest) { return blobKey(digest); }

std::string FsBlobStore::uploadRelPath(std::string_view id) { return "uploads/" + std::string(id); }

Status FsBlobStore::ensureBlobDir(const oci::Digest& digest) const {
  // open() made these; recreate them should something have removed them since.
  std::string alg_rel = "blobs/" + std::string(oci::algorithmName(digest.algorithm()));
  std::string rel = alg_rel + "/" + std::string(digest.hex().substr(0, 2));
  struct stat st;
  if (::stat(abs(rel).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return okStatus();
  bool created = false;
  if (Status s = makeDir(abs(alg_rel), alg_rel, created); !s) return s;
  if (created) {
    if (Status s = fsyncDir(abs("blobs"), "blobs"); !s) return s;
  }
  if (Status s = makeDir(abs(rel), rel, created); !s) return s;
  // Synced even when another thread created it: that thread may not have synced yet.
  return fsyncDir(abs(alg_rel), alg_rel);
}

Status FsBlobStore::moveIntoPlace(const std::string& from_rel, const oci::Digest& digest) const {
  if (Status s = ensureBlobDir(digest); !s) return s;
  std::string to_rel = blobRelPath(digest);
  // Renaming over an existing blob is fine: same digest, same bytes, and readers that
  // hold the old file open keep reading it.
  if (::rename(abs(from_rel).c_str(), abs(to_rel).c_str()) != 0) {
    return errnoError(errno, "rename", from_rel);
  }
  std::string dir_rel = to_rel.substr(0, to_rel.rfind('/'));
  return fsyncDir(abs(dir_rel), dir_rel);
}

Result<std::unique_ptr<UploadWriter>> FsBlobStore::openUpload(std::string_view id,
                                                              uint64_t offset) {
  if (!validUploadId(id)) return badUploadId();
  std::string rel = uploadRelPath(id);
  std::string path = abs(rel);
  bool created = false;
  Fd fd(openRetry(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid() && errno == ENOENT && offset == 0) {
    fd = Fd(openRetry(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (fd.valid()) {
      created = true;
    } else if (errno == EEXIST) {  // created concurrently
      fd = Fd(openRetry(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC));
    }
  }
  if (!fd.valid()) {
    if (errno == ENOENT) return uploadUnknown(id);
    return errnoError(errno, "open", rel);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return errnoError(errno, "stat", rel);
  if (!S_ISREG(st.st_mode)) return makeError(Code::kIoError, rel + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) < offset) {
    return makeError(Code::kBlobUploadUnknown, "blob upload unknown: " + std::string(id) + " has " +
                                                   std::to_string(st.st_size) +
                                                   " bytes, fewer than offset " +
                                                   std::to_string(offset));
  }
  if (static_cast<uint64_t>(st.st_size) != offset) {
    while (::ftruncate(fd.get(), static_cast<off_t>(offset)) != 0) {
      if (errno != EINTR) return errnoError(errno, "truncate", rel);
    }
  }
  return std::unique_ptr<UploadWriter>(
      new FsUploadWriter(std::move(fd), offset, rel, abs("uploads"), created));
}

Result<oci::Digest> FsBlobStore::hashUpload(std::string_view id, uint64_t length,
                                            oci::DigestAlgorithm alg) {
  if (!validUploadId(id)) return badUploadId();
  std::string rel = uploadRelPath(id);
  Fd fd(openRetry(abs(rel).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return uploadUnknown(id);
    return errnoError(errno, "open", rel);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return errnoError(errno, "stat", rel);
  if (static_cast<uint64_t>(st.st_size) < length) {
    return makeError(Code::kBlobUploadInvalid, "blob upload invalid: " + std::string(id) + " has " +
                                                   std::to_string(st.st_size) +
                                                   " bytes, expected " + std::to_string(length));
  }
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  std::unique_ptr<char[]> buf(new char[kHashChunk]);
  oci::Hasher hasher(alg);
  uint64_t done = 0;
  while (done < length) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(kHashChunk, length - done));
    Result<size_t> n = preadFull(fd.get(), buf.get(), want, done, rel);
    if (!n) return n.takeError();
    if (*n != want) {
      return makeError(Code::kBlobUploadInvalid,
                       "blob upload invalid: " + std::string(id) + " shrank while hashing");
    }
    hasher.update(buf.get(), *n);
    done += *n;
  }
  return hasher.finish();
}

Status FsBlobStore::commitUpload(std::string_view id, const oci::Digest& digest) {
  if (!validUploadId(id)) return badUploadId();
  if (digest.empty()) return makeError(Code::kDigestInvalid, "commit needs a digest");
  std::string rel = uploadRelPath(id);
  {
    // The writer may never have called sync(); the data must be durable before the
    // rename makes it visible.
    Fd fd(openRetry(abs(rel).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
      if (errno == ENOENT) return uploadUnknown(id);
      return errnoError(errno, "open", rel);
    }
    if (Status s = fsyncFd(fd.get(), rel); !s) return s;
  }
  Status s = moveIntoPlace(rel, digest);
  if (!s && s.code() == Code::kIoError) {
    struct stat st;
    if (::stat(abs(rel).c_str(), &st) != 0 && errno == ENOENT) return uploadUnknown(id);
  }
  return s;
}

Status FsBlobStore::removeUpload(std::string_view id) {
  if (!validUploadId(id)) return badUploadId();
  std::string rel = uploadRelPath(id);
  if (::unlink(abs(rel).c_str()) != 0 && errno != ENOENT) return errnoError(errno, "unlink", rel);
  return okStatus();
}

Status FsBlobStore::put(const oci::Digest& digest, std::string_view bytes) {
  if (Status s = checkDigest(digest, bytes); !s) return s;
  std::string tmpl = abs("tmp/put-XXXXXX");
  Fd fd(::mkostemp(tmpl.data(), O_CLOEXEC));
  if (!fd.valid()) return errnoError(errno, "create", "tmp");
  std::string tmp_rel = "tmp/" + tmpl.substr(tmpl.rfind('/') + 1);
  Status s = [&]() -> Status {
    if (::fchmod(fd.get(), 0644) != 0) return errnoError(errno, "chmod", tmp_rel);
    uint64_t written = 0;
    if (Status w = pwriteAll(fd.get(), bytes, 0, tmp_rel, written); !w) return w;
    if (Status f = fsyncFd(fd.get(), tmp_rel); !f) return f;
    fd.reset();
    return moveIntoPlace(tmp_rel, digest);
  }();
  if (!s) ::unlink(tmpl.c_str());
  return s;
}

Result<BlobInfo> FsBlobStore::stat(const oci::Digest& digest) {
  if (digest.empty()) return blobUnknown(digest);
  std::string rel = blobRelPath(digest);
  struct stat st;
  if (::stat(abs(rel).c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return blobUnknown(digest);
    return errnoError(errno, "stat", rel);
  }
  if (!S_ISREG(st.st_mode)) return makeError(Code::kIoError, rel + " is not a regular file");
  return BlobInfo{static_cast<uint64_t>(st.st_size), static_cast<int64_t>(st.st_mtime)};
}

Result<std::unique_ptr<BlobReader>> FsBlobStore::open(const oci::Digest& digest) {
  if (digest.empty()) return blobUnknown(digest);
  std::string rel = blobRelPath(digest);
  Fd fd(openRetry(abs(rel).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT || errno == ENOTDIR) return blobUnknown(digest);
    return errnoError(errno, "open", rel);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return errnoError(errno, "stat", rel);
  if (!S_ISREG(st.st_mode)) return makeError(Code::kIoError, rel + " is not a regular file");
  return std::unique_ptr<BlobReader>(
      new FsBlobReader(std::move(fd), static_cast<uint64_t>(st.st_size), rel));
}

Status FsBlobStore::remove(const oci::Digest& digest) {
  if (digest.empty()) return okStatus();
  std::string rel = blobRelPath(digest);
  // Not fsynced: a removal lost in a crash leaves an unreferenced blob for the next GC.
  if (::unlink(abs(rel).c_str()) != 0 && errno != ENOENT && errno != ENOTDIR) {
    return errnoError(errno, "unlink", rel);
  }
  return okStatus();
}

Status FsBlobStore::list(const std::function<void(const oci::Digest&, uint64_t size)>& fn) {
  for (oci::DigestAlgorithm alg : kAlgorithms) {
    std::string alg_name(oci::algorithmName(alg));
    std::string alg_rel = "blobs/" + alg_name;
    DirPtr alg_dir(::opendir(abs(alg_rel).c_str()));
    if (!alg_dir) {
      if (errno == ENOENT) continue;
      return errnoError(errno, "opendir", alg_rel);
    }
    while (true) {
      errno = 0;
      struct dirent* prefix_entry = ::readdir(alg_dir.get());
      if (prefix_entry == nullptr) {
        if (errno != 0) return errnoError(errno, "readdir", alg_rel);
        break;
      }
      std::string prefix = prefix_entry->d_name;
      if (prefix.size() != 2 || prefix == "..") continue;
      std::string prefix_rel = alg_rel + "/" + prefix;
      DirPtr dir(::opendir(abs(prefix_rel).c_str()));
      if (!dir) {
        if (errno == ENOENT || errno == ENOTDIR) continue;
        return errnoError(errno, "opendir", prefix_rel);
      }
      while (true) {
        errno = 0;
        struct dirent* entry = ::readdir(dir.get());
        if (entry == nullptr) {
          if (errno != 0) return errnoError(errno, "readdir", prefix_rel);
          break;
        }
        std::string_view name = entry->d_name;
        if (name.substr(0, 2) != prefix) continue;
        Result<oci::Digest> digest = oci::Digest::parse(alg_name + ":" + std::string(name));
        if (!digest) continue;  // not a blob (stray file)
        struct stat st;
        if (::fstatat(::dirfd(dir.get()), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
          if (errno == ENOENT) continue;  // removed meanwhile
          return errnoError(errno, "stat", prefix_rel + "/" + std::string(name));
        }
        if (!S_ISREG(st.st_mode)) continue;
        fn(*digest, static_cast<uint64_t>(st.st_size));
      }
    }
  }
  return okStatus();
}

Status FsBlobStore::listStaging(const std::function<void(const StagingFile&)>& uploads,
                                const std::function<void(const StagingFile&)>& temps) {
  for (const char* rel : {"uploads", "tmp"}) {
    DirPtr dir(::opendir(abs(rel).c_str()));
    if (!dir) {
      if (errno == ENOENT) continue;
      return errnoError(errno, "opendir", rel);
    }
    const bool is_uploads = std::string_view(rel) == "uploads";
    while (true) {
      errno = 0;
      struct dirent* entry = ::readdir(dir.get());
      if (entry == nullptr) {
        if (errno != 0) return errnoError(errno, "readdir", rel);
        break;
      }
      std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      if (is_uploads && !validUploadId(name)) continue;
      struct stat st;
      if (::fstatat(::dirfd(dir.get()), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;  // removed meanwhile
        return errnoError(errno, "stat", std::string(rel) + "/" + name);
      }
      if (!S_ISREG(st.st_mode)) continue;
      StagingFile f{std::move(name), static_cast<int64_t>(st.st_mtime)};
      (is_uploads ? uploads : temps)(f);
    }
  }
  return okStatus();
}

Status FsBlobStore::removeTemp(std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos) {
    return makeError(Code::kInvalidArgument, "invalid temp file name");
  }
  std::string rel = "tmp/" + std::string(name);
  if (::unlink(abs(rel).c_str()) != 0 && errno != ENOENT) return errnoError(errno, "unlink", rel);
  return okStatus();
}

std::optional<uint64_t> FsBlobStore::availableBytes() {
  struct statvfs st {};
  if (::statvfs(root_.c_str(), &st) != 0) return std::nullopt;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

}  // namespace berth::storage
