#include "conformance/registry.h"

#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

namespace conformance {

namespace fs = std::filesystem;

std::vector<DriverEntry> load_driver_entries(const fs::path& dir, std::vector<std::string>& problems) {
  std::vector<DriverEntry> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto f = e.path() / "impl.json";
    if (e.is_directory(ec) && fs::is_regular_file(f, ec)) files.push_back(f);
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f);
    const auto j = nlohmann::json::parse(in, nullptr, false);
    auto bad = [&](const std::string& why) { problems.push_back(f.string() + ": " + why); };
    if (j.is_discarded() || !j.is_object()) {
      bad("not a JSON object");
      continue;
    }
    if (!j.contains("name") || !j["name"].is_string() || j["name"].get<std::string>().empty()) {
      bad("missing name");
      continue;
    }
    if (!j.contains("command") || !j["command"].is_array() || j["command"].empty()) {
      bad("command must be a non-empty list of strings");
      continue;
    }
    DriverEntry d;
    d.name = j["name"].get<std::string>();
    d.dir = fs::absolute(f.parent_path(), ec);
    d.origin = f.string();
    d.description = j.value("description", std::string());
    bool ok = true;
    for (const auto& a : j["command"]) {
      if (!a.is_string()) ok = false;
      else d.command.push_back(a.get<std::string>());
    }
    if (!ok) {
      bad("command must be a non-empty list of strings");
      continue;
    }
    // A relative program path that exists in the folder is made absolute.
    const fs::path prog = d.command[0];
    if (prog.is_relative() && d.command[0].find('/') != std::string::npos) d.command[0] = (d.dir / prog).string();
    else if (prog.is_relative() && fs::exists(d.dir / prog, ec)) d.command[0] = (d.dir / prog).string();
    if (std::any_of(out.begin(), out.end(), [&](const DriverEntry& o) { return o.name == d.name; })) {
      bad("duplicate implementation name '" + d.name + "'");
      continue;
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace conformance
