// Runs a fuzz target's LLVMFuzzerTestOneInput over files, without libFuzzer:
// the seeds and past findings of each target become regression tests of the
// ordinary build (g++, and the asan preset's sanitizers).
//   fuzz_replay_TARGET PATH...   (files, or folders read recursively)
// Exit 0 once every input ran (a target that finds a problem aborts); 2 when
// a path cannot be read.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

bool replayFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "fuzz replay: cannot read %s\n", path.c_str());
    return false;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t inputs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path root(argv[i]);
    std::error_code error;
    if (!std::filesystem::is_directory(root, error)) {
      if (!replayFile(root)) return 2;
      ++inputs;
      continue;
    }
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root, error)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    if (error) {
      std::fprintf(stderr, "fuzz replay: cannot list %s: %s\n", root.c_str(), error.message().c_str());
      return 2;
    }
    std::sort(files.begin(), files.end());  // the same order on every machine
    for (const auto& file : files) {
      if (!replayFile(file)) return 2;
      ++inputs;
    }
  }
  std::printf("fuzz replay: %zu inputs, no problem found\n", inputs);
  return 0;
}
