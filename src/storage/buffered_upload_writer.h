#pragma once
// The UploadWriter of the object stores: buffers at most one part in memory and stores it
// (storePart) when it fills, on sync() and when the writer is destroyed; sync() then
// publishes what was stored. After a failed store the writer refuses further bytes (the
// caller truncates back with openUpload).
#include <cstdint>
#include <string>

#include "storage/blob_store.h"

namespace berth::storage {

class BufferedUploadWriter : public UploadWriter {
 public:
  BufferedUploadWriter(std::string id, uint64_t offset, size_t part_size)
      : id_(std::move(id)), stored_(offset), part_size_(part_size) {}

  Status write(std::string_view data) final;
  uint64_t size() const final { return stored_ + buffer_.size(); }
  Status sync() final;

 protected:
  // Subclasses call this from their destructor: stores and publishes what is buffered
  // (a failure then is dropped: the upload keeps what was stored before).
  void finish() {
    if (!failed_) (void)sync();
  }
  // Stores `bytes`, the upload's bytes from `offset` on.
  virtual Status storePart(uint64_t offset, std::string_view bytes) = 0;
  // Makes the stored parts visible to every node.
  virtual Status publish() { return okStatus(); }
  const std::string& id() const { return id_; }

 private:
  Status flush();

  std::string id_;
  uint64_t stored_;
  size_t part_size_;
  std::string buffer_;
  bool failed_ = false;
};

}  // namespace berth::storage
