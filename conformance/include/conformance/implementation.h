// The adapter surface every implementation presents to the conformance runner.
//
// This is the whole contract between the runner and an implementation of
// Twisted-style Deferreds. It is deliberately small so that a third-party C++
// library can implement it in-process (link against `conformance_core`, derive
// from `Implementation`, register a factory), and so that it maps one-to-one
// onto the out-of-process driver protocol (conformance/PROTOCOL.md):
//
//   info()          <->  {"cmd": "start"} / start response
//   run(id, prog)   <->  {"cmd": "run", ...} / run response
//
// `DriverClient` (driver_client.h) implements it over the protocol, and
// `serve()` (protocol_server.h) turns any in-process `Implementation` into a
// protocol-speaking driver executable.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace conformance {

struct ImplementationInfo {
  std::string name;
  std::string version;
  std::string language;
  std::string homepage;            // optional
  std::set<std::string> features;  // names from spec/features.yaml
};

// What running one case produced.
struct Outcome {
  enum class Kind {
    observed,  // `observations` holds {"trace": [...], "final": {...}}
    skipped,   // the implementation declined the case; `message` says why
    errored,   // the program could not be run (unknown step, crash, timeout...)
  };
  Kind kind = Kind::errored;
  nlohmann::json observations;  // only for `observed`
  std::string message;          // reason (skipped) or what went wrong (errored)
  std::string details;          // optional extra text (e.g. a driver's stderr tail)

  static Outcome observed(nlohmann::json obs) { return {Kind::observed, std::move(obs), {}, {}}; }
  static Outcome skipped(std::string why) { return {Kind::skipped, nullptr, std::move(why), {}}; }
  static Outcome errored(std::string why, std::string details = {}) {
    return {Kind::errored, nullptr, std::move(why), std::move(details)};
  }
};

// Thrown by an implementation that cannot be set up at all (a driver whose
// handshake fails, an in-process library that cannot initialise). The runner
// reports it and exits with status 2.
class SetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Implementation {
 public:
  virtual ~Implementation();
  // Name, version, language and features. May throw SetupError.
  virtual ImplementationInfo info() = 0;
  // Runs one case's program (the step language of spec/README.md, as JSON) from
  // a fresh state and reports what was observed. Must not throw for a program
  // it cannot run: return Outcome::errored instead. (The runner still catches
  // exceptions and reports them as errors.)
  virtual Outcome run(const std::string& case_id, const nlohmann::json& program) = 0;
};

// In-process registry: implementations linked into the runner.
using ImplementationFactory = std::function<std::unique_ptr<Implementation>()>;

struct InProcessEntry {
  ImplementationFactory factory;
  std::string description;
};

void register_in_process(const std::string& name, ImplementationFactory factory,
                         std::string description = {});
const std::map<std::string, InProcessEntry>& in_process_registry();

}  // namespace conformance
