// Fuzz target `spec_loader`: YAML text loaded as a rule file
// (conformance::load_rule_text, spec_loader.cpp + yaml_json.cpp) against the
// registries of the real spec (features, errors, sources), with the loader's
// real limits. Whatever the text, loading must end in a spec or in errors
// (`file:line: what`), without crash, sanitizer report, leak or hang.
// Checked too: every error names the file and says something; an accepted
// file yields cases whose program is a list and whose expect is a mapping.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "conformance/runner.h"
#include "conformance/spec_loader.h"
#include "fuzz_support.h"

namespace {

using namespace conformance;

[[noreturn]] void fail(const char* what, const std::string& detail) { fuzz::fail("spec_loader", what, detail); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Spec& base = fuzz::spec();
  const std::string text(reinterpret_cast<const char*>(data), size);
  const LoadResult r = load_rule_text(base, text, "rules/fuzz.yaml");
  for (const auto& e : r.errors) {
    if (e.where.file != "rules/fuzz.yaml") fail("an error naming another file", e.str());
    if (e.message.empty() || e.where.line < 0) fail("an error without message or with a negative line", e.str());
    if (e.where.line > 0 && static_cast<std::size_t>(e.where.line) > size + 1)
      fail("an error on a line past the end of the text", e.str());
  }
  if (!r.ok()) return 0;
  for (const auto& rule : r.spec.rules) {
    (void)Spec::source_text(rule.source);
    for (const auto& c : rule.cases) {
      if (!c.program.is_array()) fail("an accepted case whose program is not a list", c.full_id);
      if (!c.expect.is_object()) fail("an accepted case whose expect is not a mapping", c.full_id);
      if (c.full_id != rule.id + "/" + c.id) fail("a case id that is not RULE/CASE", c.full_id);
    }
  }
  RunOptions options;
  options.filters = {"*"};
  if (select_cases(r.spec, options).size() !=
      [&] {
        std::size_t n = 0;
        for (const auto& rule : r.spec.rules) n += rule.cases.size();
        return n;
      }())
    fail("'*' does not select every case", text.substr(0, 200));
  return 0;
}
