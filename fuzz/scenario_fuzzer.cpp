// Fuzz target `scenario`: random step programs run through the reference
// adapter in process (conformance/reference_adapter/ over reference/).
//
// Input: a program as one line of JSON (what the spec's cases look like; the
// seeds) when it starts with '[' and parses, else bytes decoded by
// ProgramGen (program_gen.h). Either way the run must end in observations or
// a clean error: no crash, no sanitizer report, no leak, no hang, no
// exception out of Implementation::run(). Also checked: the outcome is
// deterministic, and the same program through the driver protocol
// (conformance::serve, then the runner's response parser) gives the same
// outcome as in process. FUZZ_PRINT_PROGRAM=1 prints each program as JSON
// (a finding's program, to paste into a spec case or a test).
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>

#include "conformance/driver_client.h"
#include "conformance/protocol_server.h"
#include "conformance/reference_adapter.h"
#include "program_gen.h"

namespace {

using conformance::Outcome;
using nlohmann::json;

[[noreturn]] void fail(const char* what, const json& program, const std::string& a, const std::string& b = {}) {
  std::fprintf(stderr, "scenario fuzzer: %s\nprogram: %s\n%s\n%s\n", what,
               program.dump(-1, ' ', false, json::error_handler_t::replace).c_str(), a.c_str(), b.c_str());
  std::abort();
}

std::string show(const Outcome& o) {
  static const char* const kKinds[] = {"observed", "skipped", "errored"};
  std::string s = kKinds[static_cast<int>(o.kind)];
  if (o.kind == Outcome::Kind::observed) s += " " + o.observations.dump(-1, ' ', false, json::error_handler_t::replace);
  else s += ": " + o.message;
  return s;
}

Outcome run_direct(conformance::Implementation& impl, const json& program) {
  try {
    return impl.run("fuzz/case", program);
  } catch (const std::exception& e) {
    fail("Implementation::run threw", program, e.what());
  } catch (...) {
    fail("Implementation::run threw a non-std exception", program, "");
  }
}

// The same program through serve() (what reference-driver does) and back
// through the runner's parser of response lines.
Outcome run_via_protocol(conformance::Implementation& impl, const json& program) {
  std::istringstream in(json{{"cmd", "run"}, {"seq", 1}, {"case", "fuzz/case"}, {"program", program}}.dump(
                            -1, ' ', false, json::error_handler_t::replace) +
                        "\n");
  std::ostringstream out;
  conformance::serve(impl, in, out);
  std::string line = out.str();
  if (line.empty() || line.back() != '\n' || line.find('\n') != line.size() - 1)
    fail("serve() did not answer with exactly one line", program, line);
  line.pop_back();
  conformance::RunResponse r = conformance::parse_run_response(line, 1);
  if (!r.error.empty()) fail("the runner refused serve()'s response", program, r.error, line);
  return r.outcome;
}

void check_shape(const Outcome& o, const json& program) {
  if (o.kind == Outcome::Kind::skipped) fail("the reference skipped a case", program, o.message);
  if (o.kind == Outcome::Kind::errored) {
    if (o.message.empty()) fail("an error without a message", program, "");
    return;
  }
  const json& obs = o.observations;
  if (!obs.is_object() || !obs.contains("trace") || !obs["trace"].is_array() || !obs.contains("final") ||
      !obs["final"].is_object())
    fail("observations are not {trace: [...], final: {...}}", program, show(o));
  for (const auto& e : obs["trace"])
    if (!e.is_object() || !(e.contains("call") || e.contains("mark") || e.contains("raised") || e.contains("unhandled")))
      fail("a trace entry of unknown shape", program, show(o));
}

// `b` came through the protocol: the runner prefixes a driver's error messages.
bool same(const Outcome& a, const Outcome& b) {
  if (a.kind != b.kind) return false;
  if (a.kind == Outcome::Kind::observed) return a.observations == b.observations;
  if (a.kind == Outcome::Kind::errored) return b.message == "driver could not run the case: " + a.message;
  return a.message == b.message;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto impl = conformance::make_reference_implementation();
  json program;
  if (size > 0 && data[0] == '[') {
    program = json::parse(data, data + size, nullptr, false);
    if (program.is_discarded()) return 0;  // not JSON: not interesting
    // Bound what a JSON input can ask for as the decoder does (the input
    // size already bounds the work: no loops in the step language).
  } else {
    FuzzedDataProvider provider(data, size);
    program = fuzz::ProgramGen(provider).program();
  }
  static const bool print = std::getenv("FUZZ_PRINT_PROGRAM") != nullptr;  // to reproduce a finding as JSON
  if (print) std::fprintf(stderr, "program: %s\n", program.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
  const Outcome first = run_direct(*impl, program);
  check_shape(first, program);
  const Outcome second = run_via_protocol(*impl, program);
  if (!same(first, second))
    fail("two runs of the same program differ (in process, then via the protocol)", program, show(first),
         show(second));
  return 0;
}
