// Where implementations come from: the in-process registry (implementation.h),
// the built-in `reference` / `reference-driver`, and driver folders
// conformance/drivers/*/impl.json = {"name", "command": [...], "description"}
// (the command is relative to that folder).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace conformance {

struct DriverEntry {
  std::string name;
  std::vector<std::string> command;  // argv[0] resolved against `dir` when relative and it exists there
  std::string description;
  std::filesystem::path dir;         // the driver's folder (its working directory)
  std::string origin;                // impl.json path
};

// Reads every `dir/*/impl.json` (sorted). Problems are appended to `problems`
// ("path: what is wrong") and the entry is skipped.
std::vector<DriverEntry> load_driver_entries(const std::filesystem::path& dir, std::vector<std::string>& problems);

}  // namespace conformance
