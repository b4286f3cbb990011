#pragma once
// Sizes as people write them on the command line: "1048576", "500MB", "10GiB", "1.5 TiB".
#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace berth::cli {

// A non-negative number with an optional unit (case-insensitive, optional space before
// it): B; kB/KB, MB, GB, TB, PB (powers of 1000); KiB, MiB, GiB, TiB, PiB (powers of
// 1024); K, M, G, T, P alone mean the binary units. A fraction is allowed with a unit
// and rounds down to whole bytes. kInvalidArgument for anything else or past 2^63-1.
Result<uint64_t> parseSize(std::string_view text);

}  // namespace berth::cli
