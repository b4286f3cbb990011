// usage [REPOSITORY]: storage and traffic of the registry or of one repository
// (/api/v1/usage, docs/usage.md). A table by default; -o json prints the API's answer
// (for the registry, every page of repositories in one list).
#include <boost/json.hpp>
#include <cstdio>

#include "cli/command_groups.h"
#include "cli/command_support.h"
#include "cli/output.h"

namespace berth::cli {
namespace {

namespace json = boost::json;

constexpr const char* kUsagePath = "/api/v1/usage";

const json::value& member(const json::value& v, std::string_view key) {
  static const json::value kNull;
  const json::value* f = v.is_object() ? v.get_object().if_contains(key) : nullptr;
  return f ? *f : kNull;
}

// 1536 -> "1.5 KiB"; below 1 KiB exact bytes.
std::string bytesText(uint64_t n) {
  if (n < 1024) return std::to_string(n) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(n) / 1024;
  size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(units)) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

std::string trafficLine(const json::value& t) {
  return "Traffic: " + std::to_string(jsonNumber(t, "pulls")) + " pulls, " + std::to_string(jsonNumber(t, "pushes")) +
         " pushes, " + bytesText(jsonNumber(t, "bytesServed")) + " served, " + bytesText(jsonNumber(t, "bytesReceived")) +
         " received; last pull " + jsonText(t, "lastPulledOn") + ", last push " + jsonText(t, "lastPushedOn") + "\n";
}

// Rows as objects of strings, in column order, for tableText.
json::object row(std::initializer_list<std::pair<const char*, std::string>> cells) {
  json::object o;
  for (const auto& [k, v] : cells) o[k] = v;
  return o;
}

std::string registryTable(const json::value& answer) {
  const json::value& s = member(answer, "storage");
  std::string out = "Storage: " + bytesText(jsonNumber(s, "bytes")) + " (" + std::to_string(jsonNumber(s, "bytes")) +
                    " bytes: blobs " + std::to_string(jsonNumber(s, "blobBytes")) + ", manifests " +
                    std::to_string(jsonNumber(s, "manifestBytes")) + ") in " + std::to_string(jsonNumber(s, "repositories")) +
                    " repositories, " + std::to_string(jsonNumber(s, "manifests")) + " manifests (" +
                    std::to_string(jsonNumber(s, "uniqueManifests")) + " unique), " + std::to_string(jsonNumber(s, "tags")) +
                    " tags, " + std::to_string(jsonNumber(s, "blobs")) + " blobs\n";
  out += trafficLine(member(answer, "traffic"));
  json::array rows;
  if (const auto* list = member(answer, "repositories").if_array()) {
    for (const auto& r : *list) {
      rows.push_back(row({{"REPOSITORY", jsonText(r, "name")},
                          {"SIZE", bytesText(jsonNumber(r, "bytes"))},
                          {"UNIQUE", bytesText(jsonNumber(r, "uniqueBytes"))},
                          {"SHARED", bytesText(jsonNumber(r, "sharedBytes"))},
                          {"MANIFESTS", std::to_string(jsonNumber(r, "manifests"))},
                          {"TAGS", std::to_string(jsonNumber(r, "tags"))},
                          {"PULLS", std::to_string(jsonNumber(r, "pulls"))},
                          {"PUSHES", std::to_string(jsonNumber(r, "pushes"))},
                          {"SERVED", bytesText(jsonNumber(r, "bytesServed"))},
                          {"RECEIVED", bytesText(jsonNumber(r, "bytesReceived"))},
                          {"LAST PULLED", jsonText(r, "lastPulledOn")}}));
    }
  }
  if (!rows.empty()) out += "\n" + tableText(json::value(std::move(rows)));
  return out;
}

std::string repositoryTable(const json::value& answer) {
  const json::value& s = member(answer, "storage");
  std::string out = "Repository " + jsonText(answer, "name") + ": " + bytesText(jsonNumber(s, "bytes")) + " (" +
                    std::to_string(jsonNumber(s, "bytes")) + " bytes: unique " + std::to_string(jsonNumber(s, "uniqueBytes")) +
                    ", shared " + std::to_string(jsonNumber(s, "sharedBytes")) + "), " +
                    std::to_string(jsonNumber(s, "manifests")) + " manifests, " + std::to_string(jsonNumber(s, "tags")) +
                    " tags, " + std::to_string(jsonNumber(s, "blobs")) + " blobs\n";
  out += trafficLine(member(answer, "traffic"));
  json::array tags;
  if (const auto* list = member(answer, "tags").if_array()) {
    for (const auto& t : *list) {
      tags.push_back(row({{"TAG", jsonText(t, "name")},
                          {"DIGEST", jsonText(t, "digest").substr(0, 19)},
                          {"SIZE", bytesText(jsonNumber(t, "size"))},
                          {"PULLS", std::to_string(jsonNumber(t, "pulls"))},
                          {"PUSHES", std::to_string(jsonNumber(t, "pushes"))},
                          {"LAST PULLED", jsonText(t, "lastPulledOn")},
                          {"LAST PUSHED", jsonText(t, "lastPushedOn")}}));
    }
  }
  if (!tags.empty()) out += "\n" + tableText(json::value(std::move(tags)));
  json::array manifests;
  if (const auto* list = member(answer, "manifests").if_array()) {
    for (const auto& m : *list) {
      std::string tag_names;
      if (const auto* names = member(m, "tags").if_array()) {
        for (const auto& n : *names) {
          if (!tag_names.empty()) tag_names += ",";
          if (n.is_string()) tag_names += std::string(n.get_string());
        }
      }
      manifests.push_back(row({{"MANIFEST", jsonText(m, "digest")},
                               {"SIZE", bytesText(jsonNumber(m, "size"))},
                               {"TAGS", tag_names.empty() ? "-" : tag_names},
                               {"PULLS", std::to_string(jsonNumber(m, "pulls"))},
                               {"PUSHES", std::to_string(jsonNumber(m, "pushes"))},
                               {"LAST PULLED", jsonText(m, "lastPulledOn")}}));
    }
  }
  if (!manifests.empty()) out += "\n" + tableText(json::value(std::move(manifests)));
  return out;
}

// Every page of /api/v1/usage, the repositories of all pages in the first answer.
Result<json::value> registryUsage(const AdminClient& client) {
  auto first = client.call("GET", std::string(kUsagePath) + "?n=1000");
  if (!first) return first.takeError();
  if (!first->is_object()) return makeError(Code::kCorrupt, "unexpected answer from " + std::string(kUsagePath));
  json::object& out = first->get_object();
  std::string next = out["next"].is_string() ? std::string(out["next"].get_string()) : "";
  while (!next.empty()) {
    auto page = client.call("GET", next);
    if (!page) return page.takeError();
    const json::value& repos = member(*page, "repositories");
    if (!repos.is_array() || !out["repositories"].is_array()) break;
    for (const auto& r : repos.get_array()) out["repositories"].get_array().push_back(r);
    const json::value& n = member(*page, "next");
    std::string following = n.is_string() ? std::string(n.get_string()) : "";
    if (following == next) break;  // a server that does not advance
    next = std::move(following);
  }
  out["next"] = nullptr;
  return std::move(*first);
}

}  // namespace

void addUsageCommands(CLI::App& app, int& exit_code) {
  auto repository = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("usage", "Show storage and traffic of the registry, or of one repository");
  cmd->add_option("REPOSITORY", *repository, "A repository (default: the whole registry)");
  auto options = std::make_shared<ConnectionOptions>();
  options->output = "table";
  defineAdminCommand(
      cmd, exit_code,
      [repository](const AdminClient& client) -> Result<json::value> {
        if (repository->empty()) return registryUsage(client);
        return client.call("GET", itemPath(std::string(kUsagePath) + "/repositories", *repository));
      },
      options,
      [repository](const json::value& answer) {
        return repository->empty() ? registryTable(answer) : repositoryTable(answer);
      });
}

}  // namespace berth::cli
