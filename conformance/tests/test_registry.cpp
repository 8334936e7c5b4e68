// Driver folders: DIR/*/impl.json = {"name", "command": [...], "description"}.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "conformance/registry.h"

using namespace conformance;
namespace fs = std::filesystem;

namespace {

// A fresh folder of driver folders, removed at the end of the test.
struct DriversDir : ::testing::Test {
  fs::path dir = fs::temp_directory_path() / ("conform-drivers-" + std::to_string(::getpid()));
  void SetUp() override {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  void add(const std::string& folder, const std::string& impl_json) {
    fs::create_directories(dir / folder);
    std::ofstream(dir / folder / "impl.json") << impl_json;
  }
  std::string problem(const std::string& folder, const std::string& why) const {
    return (dir / folder / "impl.json").string() + ": " + why;
  }
};

}  // namespace

TEST_F(DriversDir, ReadsEntriesInFolderOrderAndResolvesTheProgram) {
  add("b", R"({"name": "bee", "command": ["./run.sh", "--fast"], "description": "B"})");
  add("a", R"({"name": "ay", "command": ["driver.py"]})");
  std::ofstream(dir / "a" / "driver.py") << "";
  add("c", R"({"name": "sea", "command": ["python3", "x.py"]})");
  fs::create_directories(dir / "no-impl-json");
  std::ofstream(dir / "stray-file") << "";
  std::vector<std::string> problems;
  const auto entries = load_driver_entries(dir, problems);
  EXPECT_TRUE(problems.empty());
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].name, "ay");
  EXPECT_EQ(entries[0].command, (std::vector<std::string>{(dir / "a" / "driver.py").string()}));
  EXPECT_EQ(entries[0].dir, dir / "a");
  EXPECT_EQ(entries[0].origin, (dir / "a" / "impl.json").string());
  EXPECT_EQ(entries[0].description, "");
  EXPECT_EQ(entries[1].name, "bee");
  EXPECT_EQ(entries[1].command, (std::vector<std::string>{(dir / "b" / "./run.sh").string(), "--fast"}));
  EXPECT_EQ(entries[1].description, "B");
  EXPECT_EQ(entries[2].command, (std::vector<std::string>{"python3", "x.py"}));  // on PATH
}

TEST_F(DriversDir, SkipsBrokenEntriesWithTheReason) {
  add("1", "not json");
  add("2", R"(["a list"])");
  add("3", R"({"command": ["x"]})");
  add("4", R"({"name": "", "command": ["x"]})");
  add("5", R"({"name": "n", "command": []})");
  add("6", R"({"name": "n", "command": "x"})");
  add("7", R"({"name": "n", "command": ["x", 1]})");
  add("8", R"({"name": "twin", "command": ["x"]})");
  add("9", R"({"name": "twin", "command": ["y"]})");
  std::vector<std::string> problems;
  const auto entries = load_driver_entries(dir, problems);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].command, (std::vector<std::string>{"x"}));
  const std::string list = "command must be a non-empty list of strings";
  EXPECT_EQ(problems, (std::vector<std::string>{
                          problem("1", "not a JSON object"), problem("2", "not a JSON object"),
                          problem("3", "missing name"), problem("4", "missing name"), problem("5", list),
                          problem("6", list), problem("7", list),
                          problem("9", "duplicate implementation name 'twin'")}));
}

TEST_F(DriversDir, AMissingFolderHasNoEntries) {
  std::vector<std::string> problems;
  EXPECT_TRUE(load_driver_entries(dir / "absent", problems).empty());
  EXPECT_TRUE(problems.empty());
}
