#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace ct {

// A fresh spec dir with the registries of tests/specs/good and one rules file.
inline std::filesystem::path make_spec(const std::string& rules_yaml, const std::string& file = "t.yaml") {
  namespace fs = std::filesystem;
  static int counter = 0;
  fs::path dir = fs::temp_directory_path() /
                 ("conform-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(dir);
  fs::create_directories(dir / "rules");
  for (const char* f : {"spec.yaml", "features.yaml", "errors.yaml", "sources.yaml"})
    fs::copy_file(fs::path(CT_SPECS) / "good" / f, dir / f);
  std::ofstream(dir / "rules" / file) << rules_yaml;
  return dir;
}

}  // namespace ct
