#include "meta/identity_store.h"

namespace berth::meta {

std::string_view kindName(IdentityKind kind) {
  switch (kind) {
    case IdentityKind::kUser:
      return "user";
    case IdentityKind::kServicePrincipal:
      return "sp";
    case IdentityKind::kToken:
      return "token";
    case IdentityKind::kFederated:
      return "federated";
  }
  return {};  // a value outside the enum
}

std::optional<IdentityKind> parseKind(std::string_view name) {
  for (IdentityKind kind : {IdentityKind::kUser, IdentityKind::kServicePrincipal,
                            IdentityKind::kToken, IdentityKind::kFederated}) {
    if (kindName(kind) == name) return kind;
  }
  return std::nullopt;
}

}  // namespace berth::meta
