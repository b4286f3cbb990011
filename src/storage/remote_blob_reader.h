#pragma once
// A BlobReader over ranged GETs of an object store, with a read-ahead buffer so that a
// caller reading sequentially in small pieces (the server's 256 KiB chunks) costs one
// request per kReadAhead bytes, not one per piece. One reader serves one request: not
// thread safe.
#include <functional>
#include <string>

#include "storage/blob_store.h"

namespace berth::storage {

class RemoteBlobReader : public BlobReader {
 public:
  static constexpr size_t kReadAhead = 4 << 20;
  // Reads exactly `len` bytes at `offset` (both within the blob) into `out`.
  using Fetch = std::function<Status(uint64_t offset, size_t len, char* out)>;

  // A ranged GET: hands [offset, offset + len) to the sink in pieces.
  using RangeGet = std::function<Status(uint64_t offset, uint64_t len,
                                        const std::function<bool(std::string_view)>& sink)>;
  // The Fetch of a ranged GET, copying the pieces into place.
  static Fetch fromRangeGet(RangeGet get);

  RemoteBlobReader(uint64_t size, Fetch fetch) : size_(size), fetch_(std::move(fetch)) {}
  uint64_t size() const override { return size_; }
  int fd() const override { return -1; }
  Result<size_t> readAt(uint64_t offset, void* buf, size_t len) override;

 private:
  uint64_t size_;
  Fetch fetch_;
  std::string cache_;
  uint64_t cache_offset_ = 0;
};

}  // namespace berth::storage
