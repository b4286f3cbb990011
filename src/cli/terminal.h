#pragma once
// Reading secrets: from the terminal without echo, or from standard input.
#include <string>
#include <string_view>

#include "common/result.h"

namespace berth::cli {

// True if standard input is a terminal.
bool stdinIsTerminal();

// Prints `prompt` to stderr and reads one line from the terminal; with `secret`, echo
// is off while typing. kInvalidArgument if standard input is not a terminal.
Result<std::string> promptLine(std::string_view prompt, bool secret);

// All of standard input, without the trailing line break(s) (--password-stdin).
Result<std::string> readSecretFromStdin();

// `text` without trailing "\n" / "\r\n".
std::string stripTrailingNewlines(std::string text);

}  // namespace berth::cli
