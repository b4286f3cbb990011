#pragma once
// Replacing a small file so that a reader (or a crash) sees the old bytes or the new ones,
// never a mix: write a 0600 temporary file beside it, fsync, rename over, fsync the
// directory. For secrets and credentials (the token signing key, the client's auth file).
#include <string>
#include <string_view>

#include "common/result.h"

namespace berth {

// kIoError naming the file and the failing step; the temporary file is removed then.
Status writeFileAtomic(const std::string& path, std::string_view data);

}  // namespace berth
