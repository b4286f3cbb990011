// oci::validateName, validateTag and parseReference: the <name> and <reference> of every
// /v2/ URL. The validators are checked against an independent automaton for the spec
// grammar, so a parser that accepts a name the spec forbids is a finding, not only a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "oci/reference.h"

using berth::Code;
namespace oci = berth::oci;

namespace {

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*, at most 255 bytes,
// as a DFA. States: after '/', start or a separator (need alnum); in alnum (accepting);
// after '.'; after '_'; after '__'; in a run of '-'.
bool specName(std::string_view s) {
  enum State { kNeedAlnum, kAlnum, kDot, kUnderscore, kTwoUnderscores, kDashes };
  if (s.size() > oci::kMaxNameLength) return false;
  State st = kNeedAlnum;
  for (char c : s) {
    bool alnum = isLowerAlnum(c);
    switch (st) {
      case kNeedAlnum:
      case kDot:
      case kTwoUnderscores:
        if (!alnum) return false;
        st = kAlnum;
        break;
      case kAlnum:
        if (alnum)
          st = kAlnum;
        else if (c == '.')
          st = kDot;
        else if (c == '_')
          st = kUnderscore;
        else if (c == '-')
          st = kDashes;
        else if (c == '/')
          st = kNeedAlnum;
        else
          return false;
        break;
      case kUnderscore:
        if (alnum)
          st = kAlnum;
        else if (c == '_')
          st = kTwoUnderscores;
        else
          return false;
        break;
      case kDashes:
        if (alnum)
          st = kAlnum;
        else if (c != '-')
          return false;
        break;
    }
  }
  return st == kAlnum;
}

// [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}
bool specTag(std::string_view s) {
  auto word = [](char c) { return isLowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (s.empty() || s.size() > 128 || !word(s.front())) return false;
  for (char c : s) {
    if (!word(c) && c != '.' && c != '-') return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = berth::fuzz::asText(data, size);

  berth::Status name = oci::validateName(text);
  FUZZ_CHECK(name.ok() == specName(text));
  if (!name) FUZZ_CHECK(name.code() == Code::kNameInvalid && !name.error().message.empty());

  berth::Status tag = oci::validateTag(text);
  FUZZ_CHECK(tag.ok() == specTag(text));
  if (!tag) FUZZ_CHECK(tag.code() == Code::kTagInvalid);

  auto ref = oci::parseReference(text);
  if (!ref) {
    FUZZ_CHECK(ref.code() == Code::kTagInvalid || ref.code() == Code::kDigestInvalid ||
               ref.code() == Code::kUnsupported);
    if (text.find(':') == std::string_view::npos) FUZZ_CHECK(!tag.ok());
    return 0;
  }
  // A reference is exactly one of a valid tag or a valid digest, and round-trips.
  FUZZ_CHECK(ref->str() == text);
  if (ref->isDigest()) {
    FUZZ_CHECK(text.find(':') != std::string_view::npos);
    auto d = oci::Digest::parse(text);
    FUZZ_CHECK(d && *d == ref->digest());
  } else {
    FUZZ_CHECK(tag.ok());
    FUZZ_CHECK(ref->tag() == text);
  }
  auto again = oci::parseReference(ref->str());
  FUZZ_CHECK(again && again->isDigest() == ref->isDigest() && again->str() == ref->str());
  return 0;
}
