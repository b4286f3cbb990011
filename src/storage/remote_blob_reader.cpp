#include "storage/remote_blob_reader.h"

#include <algorithm>
#include <cstring>

namespace berth::storage {

RemoteBlobReader::Fetch RemoteBlobReader::fromRangeGet(RangeGet get) {
  return [get = std::move(get)](uint64_t offset, size_t len, char* out) {
    size_t done = 0;
    return get(offset, len, [&](std::string_view piece) {
      if (piece.size() > len - done) return false;  // more than asked for
      std::memcpy(out + done, piece.data(), piece.size());
      done += piece.size();
      return true;
    });
  };
}

Result<size_t> RemoteBlobReader::readAt(uint64_t offset, void* buf, size_t len) {
  if (offset >= size_ || len == 0) return size_t{0};
  len = static_cast<size_t>(std::min<uint64_t>(len, size_ - offset));
  char* out = static_cast<char*>(buf);
  size_t done = 0;
  while (done < len) {
    const uint64_t at = offset + done;
    if (at >= cache_offset_ && at < cache_offset_ + cache_.size()) {
      size_t n = std::min<size_t>(len - done, static_cast<size_t>(cache_offset_ + cache_.size() - at));
      std::memcpy(out + done, cache_.data() + (at - cache_offset_), n);
      done += n;
      continue;
    }
    const size_t want = len - done;
    if (want >= kReadAhead) {  // large reads go straight into the caller's buffer
      if (Status s = fetch_(at, want, out + done); !s) return s.takeError();
      done += want;
      continue;
    }
    const size_t fill = static_cast<size_t>(std::min<uint64_t>(kReadAhead, size_ - at));
    cache_.resize(fill);
    cache_offset_ = at;
    if (Status s = fetch_(at, fill, cache_.data()); !s) {
      cache_.clear();
      return s.takeError();
    }
  }
  return done;
}

}  // namespace berth::storage
