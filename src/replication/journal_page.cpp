#include "replication/journal_page.h"

#include "oci/manifest.h"
#include "replication/json_fields.h"
#include "storage/http/crypto.h"

namespace berth::replication {

namespace json = boost::json;
namespace http = storage::http;

namespace {
// Blobs this small travel inline with the page that needs them (a page carries at most
// kInlineBudget of them): catching up on many small images costs no round trip per image
// config.
constexpr uint64_t kInlineBlobMax = 64 * 1024;
constexpr uint64_t kInlineBudget = 8 * 1024 * 1024;
}  // namespace

void PageWriter::inlineBlobs(const std::string& bytes, const std::string& media_type) {
  auto parsed = oci::parseManifest(bytes, media_type);
  if (!parsed) return;
  std::vector<const oci::Descriptor*> wanted;
  if (parsed->config) wanted.push_back(&*parsed->config);
  for (const auto& l : parsed->layers) wanted.push_back(&l);
  for (const auto* d : wanted) {
    if (d->has_urls || d->size <= 0 || static_cast<uint64_t>(d->size) > kInlineBlobMax ||
        inlined_ + static_cast<uint64_t>(d->size) > kInlineBudget || inline_.contains(d->digest.str())) {
      continue;
    }
    auto reader = blobs_.open(d->digest);
    if (!reader) continue;
    if ((*reader)->size() != static_cast<uint64_t>(d->size)) continue;
    std::string data((*reader)->size(), '\0');
    size_t got = 0;
    while (got < data.size()) {
      auto n = (*reader)->readAt(got, data.data() + got, data.size() - got);
      if (!n || *n == 0) break;
      got += *n;
    }
    if (got != data.size()) continue;
    inlined_ += data.size();
    inline_[d->digest.str()] = http::base64Encode(data);
  }
}

Status PageWriter::add(const meta::JournalRecord& row, std::string_view origin) {
  json::object e{{"id", row.id},
                 {"hlc", row.hlc},
                 {"op", row.op},
                 {"repository", row.repository},
                 {"tag", row.tag},
                 {"digest", row.digest},
                 {"prev_hlc", row.previous.hlc},
                 {"prev_origin", row.previous.origin}};
  if (!origin.empty()) e["origin"] = origin;
  if (row.op == "push") {
    if (auto d = oci::Digest::parse(row.digest)) {
      if (auto m = meta_.getManifest(row.repository, *d)) {
        e["media_type"] = m->media_type;
        e["manifest"] = http::base64Encode(m->bytes);
        inlineBlobs(m->bytes, m->media_type);
      } else if (m.code() != Code::kManifestUnknown) {
        return m.takeError();
      }
    }
  }
  entries_.push_back(std::move(e));
  return okStatus();
}

std::string PageWriter::finish(std::string_view region, int64_t last, std::string_view next) {
  json::object page{{"region", region}, {"last", last}, {"entries", std::move(entries_)}, {"blobs", std::move(inline_)}};
  if (!next.empty()) page["next"] = next;
  return json::serialize(page);
}

Result<Page> parsePage(std::string_view body) {
  Page out;
  try {
    const json::object page = json::parse(body).as_object();
    if (auto b = page.find("blobs"); b != page.end() && b->value().is_object()) {
      for (const auto& [digest, data] : b->value().get_object()) {
        if (!data.is_string()) continue;
        auto bytes = http::base64Decode(data.get_string());
        if (!bytes) throw std::runtime_error("inline blob bytes are not base64");
        out.blobs[std::string(digest)] = std::move(*bytes);
      }
    }
    out.region = textField(page, "region");
    out.last = intField(page, "last");
    out.next = textField(page, "next");
    for (const auto& v : page.at("entries").as_array()) {
      const auto& o = v.as_object();
      PageEntry e;
      e.id = intField(o, "id");
      e.hlc = intField(o, "hlc");
      e.op = textField(o, "op");
      e.repository = textField(o, "repository");
      e.tag = textField(o, "tag");
      e.digest = textField(o, "digest");
      e.previous = meta::Version{intField(o, "prev_hlc"), textField(o, "prev_origin")};
      e.origin = textField(o, "origin");
      e.media_type = textField(o, "media_type");
      if (auto it = o.find("manifest"); it != o.end() && it->value().is_string()) {
        auto bytes = http::base64Decode(it->value().get_string());
        if (!bytes) throw std::runtime_error("manifest bytes are not base64");
        e.manifest = std::move(*bytes);
      }
      out.entries.push_back(std::move(e));
    }
  } catch (const std::exception& ex) {
    return makeError(Code::kInvalidArgument, ex.what());
  }
  return out;
}

}  // namespace berth::replication
