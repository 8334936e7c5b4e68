// Structured random scenarios and their rendering into the step language.
//
// RapidCheck generates and shrinks the *raw* structure below (vectors of small
// integers). The renderer turns it into a valid program: it resolves
// references against the Deferreds that exist at that point and drops any
// step or action that would make the program invalid (undefined names, firing
// a Deferred twice, unbalanced unpause, waiting cycles, features the
// implementation lacks). So every shrink of a scenario is still a valid
// program, and failures shrink to short ones.
#pragma once

#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace props {

using json = nlohmann::json;

// --- raw structure -------------------------------------------------------------

enum ActionKind : std::uint8_t {
  A_return,          // {return: V(a)}
  A_returnArgument,  // returnArgument
  A_raise,           // {raise: T(a), message: M(b)}
  A_raiseArgument,   // raiseArgument (errback positions; elsewhere: A_raise)
  A_trap,            // {trap: types(a bitmask)} (errback positions only)
  A_returnDeferred,  // {returnDeferred: D(a)} (a later, plain Deferred)
  A_mark,            // {op: mark}
  A_fire,            // {op: callback, target: D(a), value: V(b)}
  A_cancel,          // {op: cancel, target: D(a)}
  A_pause,           // {op: pause, target: D(a)}
  A_unpause,         // {op: unpause, target: D(a)} (only with a spare pause)
  A_count
};

enum StepKind : std::uint8_t {
  S_new,           // {op: new}
  S_callback,      // {op: callback, target: D(a), value: V(b)}
  S_addCallback,   // D(a), h1
  S_addErrback,    // D(a), h1
  S_addBoth,       // D(a), h1
  S_addCallbacks,  // D(a), h1, h2
  S_errback,       // D(a), T(b), M(c)
  S_succeed,       // V(b)
  S_fail,          // T(b), M(c)
  S_mark,          //
  S_newCanceller,  // {op: new, canceller: h1 (canceller body)}
  S_cancel,        // D(a)
  S_pause,         // D(a)
  S_unpause,       // D(a)
  S_chainDeferred, // D(a) -> D(b)
  S_deferredList,  // members, c: 1 fireOnOneCallback, 2 fireOnOneErrback, 4 consumeErrors
  S_gather,        // members, c: 4 consumeErrors
  S_maybeDeferred, // h1 (body, args)
  S_count
};

struct RawAction {
  std::uint8_t kind = 0, a = 0, b = 0;
};

struct RawHandler {
  std::vector<RawAction> body;
  std::vector<std::uint8_t> args;  // extra args (values)
};

struct RawStep {
  std::uint8_t kind = 0, a = 0, b = 0, c = 0;
  std::uint8_t refire = 0;  // 1: this fire may ignore the one-firer rule
  RawHandler h1, h2;
  std::vector<std::uint8_t> members;
};

struct Scenario {
  std::vector<RawStep> steps;
};

// --- what may be generated --------------------------------------------------------

struct Profile {
  std::string name;
  std::array<int, S_count> step_weights{};
  std::array<int, A_count> action_weights{};
  int max_steps = 14;
  int max_body = 3;
  int refire_percent = 0;  // chance that a fire ignores the one-firer rule (AlreadyCalledError)
};

// The implementation's features (spec/features.yaml) and what they allow.
struct Features {
  std::set<std::string> names;
  bool has(const std::string& f) const { return names.count(f) > 0; }
  bool usable() const { return has("core") && has("synchronous"); }
};

// Zeroes the weights of everything `f` does not allow.
Profile restrict_to(Profile p, const Features& f);

// The built-in profiles: "chains", "errbacks", "nested", "control", "lists", "mixed".
std::vector<Profile> standard_profiles();

// --- rendering -----------------------------------------------------------------

struct RenderOptions {
  bool side_effects = true;       // body steps (fire/cancel/pause/unpause/mark)
  bool return_pending = true;     // returnDeferred may name an unfired Deferred
  bool refire = false;            // allow a second firer (deliberate AlreadyCalledError)
  std::string label_prefix;       // prefix of every handler label
};

struct DeferredInfo {
  std::string name;
  bool aggregate = false;  // DeferredList / gatherResults
  bool prefired = false;   // succeed / fail / maybeDeferred
  int firers = 0;
  int spare_pauses = 0;    // top-level pauses not yet matched by an unpause
  int alias_of = -1;       // maybeDeferred returned this existing Deferred
};

// Renders raw steps to a program, appending to `program` and `defs`
// (so several pieces can be rendered into one program).
class Renderer {
 public:
  Renderer(const Features& f, RenderOptions o) : features_(f), opt_(std::move(o)) {}

  void step(const RawStep& s, json& program);
  // A handler object {label, do, args} for a handler added to D(owner).
  // position: 'c' callback, 'e' errback, 'b' both, 'x' canceller, 'f' function.
  json handler(const RawHandler& h, char position, int owner);
  json value(std::uint8_t v) const;
  std::string label(const char* kind);

  std::vector<DeferredInfo> defs;
  const Features& features() const { return features_; }
  RenderOptions& options() { return opt_; }
  int label_counter = 0;
  int current_step = 0;  // index of the step being rendered in the program

 private:
  int resolve(std::uint8_t r) const;
  json body(const std::vector<RawAction>& actions, char position, int owner);
  bool fireable(int d) const;

  const Features& features_;
  RenderOptions opt_;
  bool refire_now_ = false;
};

json render(const Scenario& s, const Features& f, const RenderOptions& o = {});

// Values and errors used by scenarios.
json value_of(std::uint8_t v);
const char* error_name(std::uint8_t t);
std::string message_of(std::uint8_t m);
inline constexpr int kValueCount = 13;  // values 9..12 are $failure values
inline constexpr int kPlainValueCount = 9;

}  // namespace props
