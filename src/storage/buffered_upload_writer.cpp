#include "storage/buffered_upload_writer.h"

#include <algorithm>

namespace berth::storage {

Status BufferedUploadWriter::write(std::string_view data) {
  if (failed_) return makeError(Code::kIoError, "upload " + id_ + ": an earlier write failed");
  while (!data.empty()) {
    const size_t n = std::min(data.size(), part_size_ - buffer_.size());
    // Grows geometrically up to one part: a small upload does not hold a whole part.
    if (buffer_.size() + n > buffer_.capacity()) {
      buffer_.reserve(std::min(part_size_, std::max(buffer_.size() + n, 2 * buffer_.capacity())));
    }
    buffer_.append(data.data(), n);
    data.remove_prefix(n);
    if (buffer_.size() == part_size_) {
      if (Status s = flush(); !s) return s;
    }
  }
  return okStatus();
}

Status BufferedUploadWriter::sync() {
  if (failed_) return makeError(Code::kIoError, "upload " + id_ + ": an earlier write failed");
  if (Status s = flush(); !s) return s;
  if (Status s = publish(); !s) {
    failed_ = true;
    return s;
  }
  return okStatus();
}

Status BufferedUploadWriter::flush() {
  if (buffer_.empty()) return okStatus();
  if (Status s = storePart(stored_, buffer_); !s) {
    failed_ = true;
    return s;
  }
  stored_ += buffer_.size();
  buffer_.clear();
  return okStatus();
}

}  // namespace berth::storage
