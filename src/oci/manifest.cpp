#include "oci/manifest.h"
#include "common/text.h"

#include <boost/json.hpp>
#include <limits>

namespace berth::oci {
namespace {

namespace json = boost::json;

constexpr std::string_view kOciImageConfig = "application/vnd.oci.image.config.v1+json";
constexpr std::string_view kDockerImageConfig = "application/vnd.docker.container.image.v1+json";
constexpr std::string_view kSchema1Message =
    "schema 1 manifests are not supported; push a schema 2 or OCI manifest";
constexpr size_t kMaxEcho = 100;

enum class Kind { kManifest, kIndex, kOther };

std::string echo(std::string_view text) { return quoteUntrusted(text, kMaxEcho); }

Error invalid(std::string message) { return makeError(Code::kManifestInvalid, std::move(message)); }

// A descriptor problem: the message names the field, the detail carries it as JSON.
Error fieldError(const std::string& field, const std::string& what) {
  json::object detail;
  detail["field"] = field;
  return makeError(Code::kManifestInvalid, "manifest field " + field + ": " + what,
                   json::serialize(detail));
}

// "type/subtype; charset=utf-8" -> "type/subtype".
std::string_view stripParameters(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && (content_type.front() == ' ' || content_type.front() == '\t')) {
    content_type.remove_prefix(1);
  }
  while (!content_type.empty() && (content_type.back() == ' ' || content_type.back() == '\t')) {
    content_type.remove_suffix(1);
  }
  return content_type;
}

bool isSchema1(std::string_view media_type) {
  return media_type == kDockerSchema1 || media_type == kDockerSchema1Signed;
}

Kind kindOf(std::string_view media_type) {
  if (media_type == kOciManifest || media_type == kDockerManifest) return Kind::kManifest;
  if (media_type == kOciIndex || media_type == kDockerManifestList) return Kind::kIndex;
  return Kind::kOther;
}

// An integer that fits int64_t; doubles (even 2.0) are not integers here.
std::optional<int64_t> asInteger(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() &&
      v.get_uint64() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return static_cast<int64_t>(v.get_uint64());
  }
  return std::nullopt;
}

// Returns the string at `key`, nullopt if absent; an error if present but not a string.
Result<std::optional<std::string>> optionalString(const json::object& obj, std::string_view key,
                                                  const std::string& field) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return fieldError(field, "must be a string");
  return std::optional<std::string>(std::string(v->get_string()));
}

Result<Descriptor> parseDescriptor(const json::value& v, const std::string& field,
                                   bool index_child) {
  if (!v.is_object()) return fieldError(field, "must be a descriptor object");
  const json::object& obj = v.get_object();
  Descriptor d;

  const json::value* mt = obj.if_contains("mediaType");
  if (mt == nullptr) return fieldError(field + ".mediaType", "is missing");
  if (!mt->is_string() || mt->get_string().empty()) {
    return fieldError(field + ".mediaType", "must be a non-empty string");
  }
  d.media_type = std::string(mt->get_string());

  const json::value* dg = obj.if_contains("digest");
  if (dg == nullptr) return fieldError(field + ".digest", "is missing");
  if (!dg->is_string()) return fieldError(field + ".digest", "must be a string");
  Result<Digest> digest = Digest::parse(std::string_view(dg->get_string()));
  if (!digest) return fieldError(field + ".digest", digest.error().message);
  d.digest = std::move(digest).value();

  const json::value* sz = obj.if_contains("size");
  if (sz == nullptr) return fieldError(field + ".size", "is missing");
  std::optional<int64_t> size = asInteger(*sz);
  if (!size || *size < 0) return fieldError(field + ".size", "must be a non-negative integer");
  d.size = *size;

  auto artifact_type = optionalString(obj, "artifactType", field + ".artifactType");
  if (!artifact_type) return artifact_type.takeError();
  d.artifact_type = artifact_type->value_or("");

  if (const json::value* urls = obj.if_contains("urls")) {
    if (!urls->is_array()) return fieldError(field + ".urls", "must be an array of strings");
    for (const json::value& u : urls->get_array()) {
      if (!u.is_string()) return fieldError(field + ".urls", "must be an array of strings");
    }
    d.has_urls = !urls->get_array().empty();
  }

  if (const json::value* platform = obj.if_contains("platform"); platform && index_child) {
    if (!platform->is_object()) return fieldError(field + ".platform", "must be an object");
    const json::object& p = platform->get_object();
    auto os = optionalString(p, "os", field + ".platform.os");
    if (!os) return os.takeError();
    auto arch = optionalString(p, "architecture", field + ".platform.architecture");
    if (!arch) return arch.takeError();
    d.platform_os = os->value_or("");
    d.platform_architecture = arch->value_or("");
  }
  return d;
}

// Parses the array at `key` into `out`. With `required`, a missing array is an error.
Status parseDescriptorArray(const json::object& obj, std::string_view key, bool required,
                            bool index_children, std::vector<Descriptor>& out) {
  const json::value* v = obj.if_contains(key);
  std::string field(key);
  if (v == nullptr) {
    if (required) return fieldError(field, "is missing");
    return okStatus();
  }
  if (!v->is_array()) return fieldError(field, "must be an array of descriptors");
  const json::array& arr = v->get_array();
  out.reserve(out.size() + arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    Result<Descriptor> d =
        parseDescriptor(arr[i], field + "[" + std::to_string(i) + "]", index_children);
    if (!d) return d.takeError();
    out.push_back(std::move(d).value());
  }
  return okStatus();
}

Result<std::optional<Descriptor>> parseOptionalDescriptor(const json::object& obj,
                                                          std::string_view key) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr) return std::optional<Descriptor>();
  Result<Descriptor> d = parseDescriptor(*v, std::string(key), false);
  if (!d) return d.takeError();
  return std::optional<Descriptor>(std::move(d).value());
}

// OCI/Docker manifests and indexes: every known field must be well formed.
Status parseKnown(const json::object& obj, Kind kind, ParsedManifest& m) {
  const json::value* version = obj.if_contains("schemaVersion");
  if (version == nullptr) return fieldError("schemaVersion", "is missing");
  if (asInteger(*version) != 2) return fieldError("schemaVersion", "must be 2");

  if (kind == Kind::kManifest) {
    const json::value* config = obj.if_contains("config");
    if (config == nullptr) return fieldError("config", "is missing");
    Result<Descriptor> c = parseDescriptor(*config, "config", false);
    if (!c) return c.takeError();
    m.config = std::move(c).value();
    if (Status s = parseDescriptorArray(obj, "layers", true, false, m.layers); !s) return s;
  } else {
    if (Status s = parseDescriptorArray(obj, "manifests", true, true, m.manifests); !s) return s;
  }

  auto subject = parseOptionalDescriptor(obj, "subject");
  if (!subject) return subject.takeError();
  m.subject = std::move(subject).value();

  auto artifact_type = optionalString(obj, "artifactType", "artifactType");
  if (!artifact_type) return artifact_type.takeError();
  if (artifact_type->has_value()) {
    m.artifact_type = **artifact_type;
  } else if (m.media_type == kOciManifest && m.config && m.config->media_type != kOciImageConfig &&
             m.config->media_type != kDockerImageConfig) {
    m.artifact_type = m.config->media_type;
  }

  if (const json::value* annotations = obj.if_contains("annotations")) {
    if (!annotations->is_object()) return fieldError("annotations", "must be an object");
    m.annotations_json = json::serialize(*annotations);
  }
  return okStatus();
}

// Any other media type is stored as pushed; known fields are picked up when well formed
// and otherwise ignored.
void parseOther(const json::object& obj, ParsedManifest& m) {
  auto config = parseOptionalDescriptor(obj, "config");
  if (config) m.config = std::move(config).value();
  for (std::string_view key : {"layers", "blobs"}) {
    std::vector<Descriptor> found;
    if (parseDescriptorArray(obj, key, false, false, found)) {
      for (Descriptor& d : found) m.layers.push_back(std::move(d));
    }
  }
  std::vector<Descriptor> children;
  if (parseDescriptorArray(obj, "manifests", false, true, children)) {
    m.manifests = std::move(children);
  }
  auto subject = parseOptionalDescriptor(obj, "subject");
  if (subject) m.subject = std::move(subject).value();
  if (const json::value* at = obj.if_contains("artifactType"); at && at->is_string()) {
    m.artifact_type = std::string(at->get_string());
  }
  if (const json::value* annotations = obj.if_contains("annotations");
      annotations && annotations->is_object()) {
    m.annotations_json = json::serialize(*annotations);
  }
}

}  // namespace

Result<ParsedManifest> parseManifest(std::string_view bytes, std::string_view content_type) {
  if (bytes.size() > kMaxManifestSize) {
    return makeError(Code::kPayloadTooLarge,
                     "manifest is larger than " + std::to_string(kMaxManifestSize) + " bytes");
  }
  std::string_view header = stripParameters(content_type);
  if (isSchema1(header)) return invalid(std::string(kSchema1Message));

  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  json::monotonic_resource arena;
  boost::system::error_code ec;
  json::value root =
      json::parse(json::string_view(bytes.data(), bytes.size()), ec, &arena, options);
  if (ec == json::error::too_deep) {
    return invalid("manifest JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  if (ec) return invalid("manifest is not valid JSON: " + ec.message());
  if (!root.is_object()) return invalid("manifest must be a JSON object");
  const json::object& obj = root.get_object();

  std::optional<std::string_view> body_type;
  if (const json::value* mt = obj.if_contains("mediaType")) {
    if (!mt->is_string()) return fieldError("mediaType", "must be a string");
    body_type = std::string_view(mt->get_string());
  }
  if (body_type && isSchema1(*body_type)) return invalid(std::string(kSchema1Message));
  if (const json::value* version = obj.if_contains("schemaVersion");
      version && asInteger(*version) == 1) {
    return invalid(std::string(kSchema1Message));
  }

  ParsedManifest m;
  if (!header.empty()) {
    if (body_type && *body_type != header) {
      return invalid("Content-Type " + echo(header) + " does not match the manifest mediaType " +
                     echo(*body_type));
    }
    m.media_type = std::string(header);
  } else if (body_type && !body_type->empty()) {
    m.media_type = std::string(*body_type);
  } else {
    return invalid("manifest media type unknown: set Content-Type or the mediaType field");
  }

  Kind kind = kindOf(m.media_type);
  if (kind == Kind::kOther) {
    parseOther(obj, m);
  } else if (Status s = parseKnown(obj, kind, m); !s) {
    return s.takeError();
  }
  return m;
}

}  // namespace berth::oci
