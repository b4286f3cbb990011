#include "cli/terminal.h"

#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

namespace berth::cli {

bool stdinIsTerminal() { return ::isatty(STDIN_FILENO) == 1; }

Result<std::string> promptLine(std::string_view prompt, bool secret) {
  if (!stdinIsTerminal()) return makeError(Code::kInvalidArgument, "standard input is not a terminal");
  std::cerr << prompt << std::flush;
  termios saved{};
  bool restore = false;
  if (secret && ::tcgetattr(STDIN_FILENO, &saved) == 0) {
    termios quiet = saved;
    quiet.c_lflag &= ~tcflag_t(ECHO);
    quiet.c_lflag |= ECHONL;
    restore = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  if (restore) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  if (!got) return makeError(Code::kInvalidArgument, "no input");
  return stripTrailingNewlines(std::move(line));
}

Result<std::string> readSecretFromStdin() {
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return makeError(Code::kIoError, std::string("cannot read standard input: ") + std::strerror(errno));
    if (n == 0) break;
    text.append(buf, size_t(n));
    if (text.size() > 1 << 20) return makeError(Code::kInvalidArgument, "standard input is over 1 MiB: not a password");
  }
  return stripTrailingNewlines(std::move(text));
}

std::string stripTrailingNewlines(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace berth::cli
