#include "oci/reference.h"

namespace berth::oci {
namespace {

constexpr size_t kMaxTagLength = 128;

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool isUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool isNameSeparator(char c) { return c == '.' || c == '_' || c == '-'; }

std::string describeChar(char c) {
  if (c >= 0x20 && c < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  auto u = static_cast<unsigned char>(c);
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0xf];
}

Error nameError(size_t component, std::string what) {
  return makeError(Code::kNameInvalid, "invalid repository name: path component " +
                                           std::to_string(component) + " " + what);
}

// One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*. `index` is 1-based, for messages.
Status validateComponent(std::string_view c, size_t index) {
  if (c.empty()) return nameError(index, "is empty (leading, trailing or doubled '/')");
  if (c == "." || c == "..") return nameError(index, "is \"" + std::string(c) + "\"");
  for (char ch : c) {
    if (isUpper(ch)) return nameError(index, "contains uppercase letter " + describeChar(ch));
    if (!isLowerAlnum(ch) && !isNameSeparator(ch)) {
      return nameError(index, "contains invalid character " + describeChar(ch));
    }
  }
  if (!isLowerAlnum(c.front())) {
    return nameError(index, "must start with a lowercase letter or digit");
  }
  if (!isLowerAlnum(c.back())) {
    return nameError(index, "must end with a lowercase letter or digit");
  }
  // Every run of separators between alphanumerics must be ".", "_", "__" or "-+".
  size_t i = 0;
  while (i < c.size()) {
    if (isLowerAlnum(c[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < c.size() && isNameSeparator(c[i])) ++i;
    std::string_view run = c.substr(start, i - start);
    bool dashes = run.find_first_not_of('-') == std::string_view::npos;
    if (run != "." && run != "_" && run != "__" && !dashes) {
      return nameError(index, "has separator \"" + std::string(run) +
                                  "\"; allowed are \".\", \"_\", \"__\" or dashes");
    }
  }
  return okStatus();
}

}  // namespace

Status validateName(std::string_view name) {
  if (name.empty()) return makeError(Code::kNameInvalid, "invalid repository name: empty");
  if (name.size() > kMaxNameLength) {
    return makeError(Code::kNameInvalid, "invalid repository name: longer than " +
                                             std::to_string(kMaxNameLength) + " characters");
  }
  size_t index = 1;
  size_t start = 0;
  while (true) {
    size_t slash = name.find('/', start);
    std::string_view component = name.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (Status s = validateComponent(component, index); !s) return s;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
    ++index;
  }
  return okStatus();
}

Status validateTag(std::string_view tag) {
  if (tag.empty()) return makeError(Code::kTagInvalid, "invalid tag: empty");
  if (tag.size() > kMaxTagLength) {
    return makeError(Code::kTagInvalid,
                     "invalid tag: longer than " + std::to_string(kMaxTagLength) + " characters");
  }
  auto word = [](char c) { return isLowerAlnum(c) || isUpper(c) || c == '_'; };
  if (!word(tag.front())) {
    return makeError(Code::kTagInvalid, "invalid tag: must start with a letter, digit or '_'");
  }
  for (char c : tag) {
    if (!word(c) && c != '.' && c != '-') {
      return makeError(Code::kTagInvalid,
                       "invalid tag: contains invalid character " + describeChar(c));
    }
  }
  return okStatus();
}

Result<Reference> parseReference(std::string_view text) {
  if (text.find(':') != std::string_view::npos) {
    Result<Digest> d = Digest::parse(text);
    if (!d) return d.takeError();
    return Reference{std::move(d).value()};
  }
  if (Status s = validateTag(text); !s) return s.takeError();
  return Reference{std::string(text)};
}

}  // namespace berth::oci
