#pragma once
// Repository names and references, validated by the OCI distribution spec grammar:
//   name:  [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
//   tag:   [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}
#include <string>
#include <string_view>
#include <variant>

#include "common/result.h"
#include "oci/digest.h"

namespace berth::oci {

inline constexpr size_t kMaxNameLength = 255;

// kNameInvalid with a message saying what is wrong; ok for a valid name.
Status validateName(std::string_view name);
// kTagInvalid unless the tag matches the grammar.
Status validateTag(std::string_view tag);

// A manifest reference: either a tag or a digest. A string containing ':' is
// treated as a digest (tags cannot contain ':').
struct Reference {
  std::variant<std::string, Digest> value;
  bool isDigest() const { return value.index() == 1; }
  const std::string& tag() const { return std::get<0>(value); }
  const Digest& digest() const { return std::get<1>(value); }
  const std::string& str() const { return isDigest() ? digest().str() : tag(); }
};

// kTagInvalid / kDigestInvalid / kUnsupported on bad input.
Result<Reference> parseReference(std::string_view text);

}  // namespace berth::oci
