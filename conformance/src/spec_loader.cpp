#include "conformance/spec_loader.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include "conformance/yaml_json.h"

namespace conformance {

using nlohmann::json;
namespace fs = std::filesystem;

const Rule* Spec::find_rule(const std::string& id) const {
  for (const auto& r : rules)
    if (r.id == id) return &r;
  return nullptr;
}

std::string Spec::source_text(const json& source) {
  std::string out;
  if (!source.is_array()) return out;
  for (const auto& c : source) {
    if (!out.empty()) out += "; ";
    if (c.contains("api")) {
      out += "api " + c["api"].get<std::string>();
    } else if (c.contains("doc")) {
      out += c["doc"].get<std::string>() + " § " + c.value("section", std::string());
    }
  }
  return out;
}

namespace {

using Entries = std::vector<std::pair<std::string, YAML::Node>>;

bool is_identifier(const std::string& s) {
  if (s.empty()) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(s[0])) return false;
  for (char c : s)
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  return true;
}

bool is_valid_id(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (c <= ' ' || c == '/' || c == '*' || c == '?' || c == '[' || c == ']' || c == '\\' || c >= 0x7f)
      return false;
  return true;
}

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

enum Kind : unsigned { kDeferred = 1, kLock = 2, kSemaphore = 4, kQueue = 8, kAny = 15 };

std::string kind_name(unsigned k) {
  std::vector<std::string> v;
  if (k & kDeferred) v.push_back("a Deferred");
  if (k & kLock) v.push_back("a DeferredLock");
  if (k & kSemaphore) v.push_back("a DeferredSemaphore");
  if (k & kQueue) v.push_back("a DeferredQueue");
  return join(v, " or ");
}

// Field kinds of the step language.
enum class F {
  NameDef, NameUse, NameList, Value, ValueList, ErrorType, ErrorList, Text, Label, Number, Int, OptInt,
  Bool, Handler, Body, CoBody
};

struct FieldSpec {
  const char* name;
  F kind;
  bool required;
  unsigned use_kind = kDeferred;  // for NameUse / NameList
  unsigned def_kind = kDeferred;  // for NameDef
};

struct OpSpec {
  std::vector<FieldSpec> fields;
  bool coroutine_only = false;
};

const std::map<std::string, OpSpec>& op_table() {
  static const std::map<std::string, OpSpec> t = [] {
    std::map<std::string, OpSpec> m;
    const FieldSpec on{"target", F::NameUse, true};
    const FieldSpec name{"name", F::NameDef, true};
    const FieldSpec label{"label", F::Label, true};
    const FieldSpec body{"do", F::Body, true};
    const FieldSpec args{"args", F::ValueList, false};
    m["new"] = {{name, {"canceller", F::Handler, false}}};
    m["succeed"] = {{name, {"value", F::Value, true}}};
    m["fail"] = {{name, {"error", F::ErrorType, true}, {"message", F::Text, false}}};
    m["maybeDeferred"] = {{name, label, body, args}};
    m["DeferredList"] = {{name,
                          {"members", F::NameList, true},
                          {"fireOnOneCallback", F::Bool, false},
                          {"fireOnOneErrback", F::Bool, false},
                          {"consumeErrors", F::Bool, false}}};
    m["gatherResults"] = {{name, {"members", F::NameList, true}, {"consumeErrors", F::Bool, false}}};
    m["coroutine"] = {{name, {"body", F::CoBody, true}}};
    for (const char* op : {"addCallback", "addErrback", "addBoth"}) m[op] = {{on, label, body, args}};
    m["addCallbacks"] = {{on, {"callback", F::Handler, true}, {"errback", F::Handler, true}}};
    m["chainDeferred"] = {{on, {"to", F::NameUse, true}}};
    m["addTimeout"] = {{on, {"seconds", F::Number, true}, {"onTimeoutCancel", F::Handler, false}}};
    m["callback"] = {{on, {"value", F::Value, true}}};
    m["errback"] = {{on, {"error", F::ErrorType, true}, {"message", F::Text, false}}};
    for (const char* op : {"cancel", "pause", "unpause"}) m[op] = {{on}};
    m["advance"] = {{{"seconds", F::Number, true}}};
    m["drop"] = {{{"target", F::NameUse, true, kAny}}};
    m["mark"] = {{label}};
    m["DeferredLock"] = {{{"name", F::NameDef, true, kDeferred, kLock}}};
    m["DeferredSemaphore"] = {{{"name", F::NameDef, true, kDeferred, kSemaphore}, {"tokens", F::Int, true}}};
    m["DeferredQueue"] = {{{"name", F::NameDef, true, kDeferred, kQueue},
                           {"size", F::OptInt, false},
                           {"backlog", F::OptInt, false}}};
    const FieldSpec lock_on{"target", F::NameUse, true, kLock | kSemaphore};
    m["acquire"] = {{lock_on, name}};
    m["release"] = {{lock_on}};
    m["run"] = {{lock_on, name, label, body, args}};
    const FieldSpec queue_on{"target", F::NameUse, true, kQueue};
    m["put"] = {{queue_on, {"value", F::Value, true}}};
    m["get"] = {{queue_on, name}};
    m["await"] = {{on, label, {"catch", F::ErrorList, false}}, true};
    return m;
  }();
  return t;
}

struct Use {
  std::string name;
  int line;
  unsigned kinds;
};

// Per-case name bookkeeping.
struct Names {
  std::map<std::string, std::pair<int, unsigned>> defs;  // name -> (line, kind) of first creation
  std::set<std::string> live;                            // top-level namespace, in program order
  std::set<std::string> dropped;
  std::vector<Use> body_uses;      // checked at the end against all defs
  std::vector<Use> top_uses;       // kind-checked at the end
  std::vector<Use> top_misses;     // top-level uses of names not (yet) created
  std::vector<std::pair<std::string, int>> pending_defs;  // defs of the current top-level step
};

class Loader {
 public:
  Loader(const LoadLimits& limits, std::vector<SpecError>& errors) : limits_(limits), errors_(errors) {}

  // ---- files --------------------------------------------------------------
  bool parse_file(const fs::path& path, const std::string& shown, YAML::Node& out) {
    file_ = shown;
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec) return error(0, "cannot read file: " + ec.message()), false;
    if (size > limits_.max_file_bytes)
      return error(0, "file too large (" + std::to_string(size) + " bytes; the limit is " +
                          std::to_string(limits_.max_file_bytes) + ")"),
             false;
    std::ifstream in(path, std::ios::binary);
    if (!in) return error(0, "cannot open file"), false;
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_text(ss.str(), shown, out);
  }

  bool parse_text(const std::string& text, const std::string& shown, YAML::Node& out) {
    file_ = shown;
    if (text.size() > limits_.max_file_bytes)
      return error(0, "file too large (" + std::to_string(text.size()) + " bytes; the limit is " +
                          std::to_string(limits_.max_file_bytes) + ")"),
             false;
    try {
      out = YAML::Load(text);
    } catch (const YAML::DeepRecursion& e) {
      // yaml-cpp's own guard (its message only says "bad file").
      return error(e.mark.line >= 0 ? e.mark.line + 1 : 0,
                   "malformed YAML: nesting deeper than " + std::to_string(limits_.max_depth) +
                       " levels (too deep for the parser)"),
             false;
    } catch (const YAML::Exception& e) {
      return error(e.mark.line >= 0 ? e.mark.line + 1 : 0, "malformed YAML: " + e.msg), false;
    }
    // Bound depth and size (alias expansion) before walking the document.
    std::vector<YamlIssue> issues;
    YamlConvertOptions opts{limits_.max_depth, limits_.max_nodes};
    (void)yaml_to_json(out, issues, opts);
    bool fatal = false;
    for (auto& i : issues) {
      error(i.line, i.message);
      if (i.message.find("nesting deeper") != std::string::npos || i.message.find("too large") != std::string::npos)
        fatal = true;
    }
    if (fatal) return false;
    if (!out.IsMap()) return error(yaml_line(out), "the document must be a mapping"), false;
    return true;
  }

  void error(int line, std::string msg) { errors_.push_back({{file_, line}, std::move(msg)}); }
  void error(const YAML::Node& n, std::string msg) { error(yaml_line(n), std::move(msg)); }

  // Map entries; reports non-string keys (duplicates are reported by the converter).
  Entries entries(const YAML::Node& n) {
    Entries out;
    std::set<std::string> seen;
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->first.IsScalar()) continue;
      if (!seen.insert(it->first.Scalar()).second) continue;
      out.emplace_back(it->first.Scalar(), it->second);
    }
    return out;
  }

  static YAML::Node find(const Entries& e, const std::string& key) {
    for (const auto& [k, v] : e)
      if (k == key) return v;
    return YAML::Node(YAML::NodeType::Undefined);
  }

  // Checks that `n` is a mapping with exactly the allowed fields.
  bool check_fields(const YAML::Node& n, const std::string& what, const std::vector<std::string>& required,
                    const std::vector<std::string>& optional, Entries& out) {
    if (!n.IsMap()) return error(n, what + " must be a mapping"), false;
    out = entries(n);
    bool ok = true;
    for (const auto& [k, v] : out) {
      if (std::find(required.begin(), required.end(), k) == required.end() &&
          std::find(optional.begin(), optional.end(), k) == optional.end()) {
        std::vector<std::string> all = required;
        all.insert(all.end(), optional.begin(), optional.end());
        error(v.IsDefined() && v.Mark().line >= 0 ? v : n,
              "unknown field '" + k + "' in " + what + " (allowed: " + join(all) + ")");
        ok = false;
      }
    }
    for (const auto& r : required) {
      if (!find(out, r).IsDefined()) {
        error(n, "missing field '" + r + "' in " + what);
        ok = false;
      }
    }
    return ok;
  }

  json to_json(const YAML::Node& n) {
    std::vector<YamlIssue> issues;  // already reported by parse_file
    return yaml_to_json(n, issues, {limits_.max_depth, limits_.max_nodes});
  }

  bool get_string(const YAML::Node& n, const std::string& what, std::string& out, bool allow_empty = false) {
    if (!n.IsScalar() || (n.Tag() != "!" && to_json(n).type() != json::value_t::string)) {
      error(n, what + " must be a string");
      return false;
    }
    out = n.Scalar();
    if (!allow_empty && out.empty()) return error(n, what + " must not be empty"), false;
    return true;
  }

  bool get_int(const YAML::Node& n, const std::string& what, std::int64_t& out) {
    json j = n.IsScalar() ? to_json(n) : json();
    if (!j.is_number_integer()) return error(n, what + " must be an integer"), false;
    out = j.get<std::int64_t>();
    return true;
  }

  bool get_string_list(const YAML::Node& n, const std::string& what, std::vector<std::string>& out) {
    if (!n.IsSequence()) return error(n, what + " must be a list"), false;
    bool ok = true;
    for (const auto& item : n) {
      std::string s;
      if (get_string(item, what + " entry", s)) out.push_back(s);
      else ok = false;
    }
    return ok;
  }

  // ---- registries ---------------------------------------------------------
  void load_registries(Spec& spec, const fs::path& dir, const std::string& shown_dir) {
    YAML::Node doc;
    Entries e;
    if (parse_file(dir / "spec.yaml", shown_dir + "spec.yaml", doc) &&
        check_fields(doc, "spec.yaml", {"version", "format"}, {}, e)) {
      get_string(find(e, "version"), "version", spec.version);
      std::int64_t f = 0;
      if (get_int(find(e, "format"), "format", f)) spec.format = static_cast<int>(f);
    }
    if (parse_file(dir / "features.yaml", shown_dir + "features.yaml", doc) &&
        check_fields(doc, "features.yaml", {"features"}, {}, e)) {
      auto feats = find(e, "features");
      if (!feats.IsMap()) error(feats, "features must be a mapping of name to description");
      else
        for (const auto& [k, v] : entries(feats)) {
          std::string desc;
          if (!is_valid_id(k)) error(v, "invalid feature name '" + k + "'");
          get_string(v, "feature '" + k + "' description", desc);
          spec.features[k] = desc;
        }
    }
    if (parse_file(dir / "errors.yaml", shown_dir + "errors.yaml", doc) &&
        check_fields(doc, "errors.yaml", {"errors"}, {}, e)) {
      auto errs = find(e, "errors");
      if (!errs.IsMap()) error(errs, "errors must be a mapping");
      else {
        for (const auto& [k, v] : entries(errs)) {
          Entries ee;
          ErrorType t;
          if (!is_identifier(k)) error(v, "invalid error type name '" + k + "'");
          if (check_fields(v, "error type '" + k + "'", {"kind", "message"}, {"parent", "fields"}, ee)) {
            get_string(find(ee, "kind"), "kind", t.kind);
            if (t.kind != "test" && t.kind != "library") error(find(ee, "kind"), "kind must be test or library");
            auto m = to_json(find(ee, "message"));
            if (!m.is_boolean()) error(find(ee, "message"), "message must be true or false");
            else t.message = m.get<bool>();
            if (auto p = find(ee, "parent"); p.IsDefined()) get_string(p, "parent", t.parent);
            if (auto fl = find(ee, "fields"); fl.IsDefined()) {
              std::vector<std::string> fields;
              get_string_list(fl, "fields", fields);
              t.fields = fields;
            }
          }
          spec.errors[k] = t;
          error_lines_[k] = yaml_line(v);
        }
        for (const auto& [k, t] : spec.errors)
          if (!t.parent.empty() && !spec.errors.count(t.parent))
            error(error_lines_[k], "error type '" + k + "' has unknown parent '" + t.parent + "'");
      }
    }
    if (parse_file(dir / "sources.yaml", shown_dir + "sources.yaml", doc) &&
        check_fields(doc, "sources.yaml", {"documents"}, {}, e)) {
      auto docs = find(e, "documents");
      if (!docs.IsMap()) error(docs, "documents must be a mapping");
      else
        for (const auto& [k, v] : entries(docs)) {
          Entries de;
          auto& sections = spec.sources[k];
          if (!check_fields(v, "document '" + k + "'", {"title", "sections"}, {"seed"}, de)) continue;
          auto secs = find(de, "sections");
          if (!secs.IsSequence()) {
            error(secs, "sections must be a list");
            continue;
          }
          for (const auto& s : secs) {
            Entries se;
            std::string name;
            if (check_fields(s, "section", {"name"}, {"rules"}, se) && get_string(find(se, "name"), "section name", name))
              if (!sections.insert(name).second) error(s, "duplicate section '" + name + "'");
          }
        }
    }
  }

  // ---- rule files ---------------------------------------------------------
  void load_rule_file(Spec& spec, const fs::path& path, const std::string& shown) {
    YAML::Node doc;
    if (parse_file(path, shown, doc)) load_rule_doc(spec, doc, shown);
  }

  void load_rule_text(Spec& spec, const std::string& text, const std::string& shown) {
    YAML::Node doc;
    if (parse_text(text, shown, doc)) load_rule_doc(spec, doc, shown);
  }

  void load_rule_doc(Spec& spec, const YAML::Node& doc, const std::string& shown) {
    Entries e;
    check_fields(doc, "a rule file", {"format", "area", "title", "rules"}, {}, e);
    RuleFile rf;
    rf.path = shown;
    if (auto f = find(e, "format"); f.IsDefined()) {
      std::int64_t v = 0;
      if (get_int(f, "format", v) && spec.format != 0 && v != spec.format)
        error(f, "format " + std::to_string(v) + " does not match spec.yaml's format " + std::to_string(spec.format));
    }
    if (auto a = find(e, "area"); a.IsDefined()) get_string(a, "area", rf.area);
    if (auto t = find(e, "title"); t.IsDefined()) get_string(t, "title", rf.title);
    spec.files.push_back(rf);
    auto rules = find(e, "rules");
    if (!rules.IsDefined()) return;
    if (!rules.IsSequence()) return error(rules, "rules must be a list");
    for (const auto& r : rules) load_rule(spec, r, rf.area);
  }

  void load_features(const Spec& spec, const YAML::Node& n, std::vector<std::string>& out) {
    if (!get_string_list(n, "features", out)) return;
    std::size_t i = 0;
    for (const auto& item : n) {
      if (i < out.size() && !spec.features.count(out[i]))
        error(item, "unknown feature '" + out[i] + "' (not in spec/features.yaml)");
      ++i;
    }
  }

  void load_rule(Spec& spec, const YAML::Node& n, const std::string& area) {
    Entries e;
    if (!n.IsMap()) return error(n, "a rule must be a mapping");
    check_fields(n, "rule", {"id", "title", "statement", "source", "level", "features", "cases"}, {"note"}, e);
    Rule rule;
    rule.area = area;
    rule.where = {file_, yaml_line(n)};
    auto idn = find(e, "id");
    if (idn.IsDefined() && get_string(idn, "rule id", rule.id)) {
      if (!is_valid_id(rule.id)) error(idn, "invalid rule id '" + rule.id + "' (no spaces, '/', or glob characters)");
      auto [it, fresh] = rule_ids_.emplace(rule.id, rule.where);
      if (!fresh) error(idn, "duplicate rule id '" + rule.id + "' (first defined at " + it->second.str() + ")");
    }
    if (auto v = find(e, "title"); v.IsDefined()) get_string(v, "title", rule.title);
    if (auto v = find(e, "statement"); v.IsDefined()) get_string(v, "statement", rule.statement);
    while (!rule.statement.empty() && (rule.statement.back() == '\n' || rule.statement.back() == ' '))
      rule.statement.pop_back();
    if (auto v = find(e, "note"); v.IsDefined()) get_string(v, "note", rule.note);
    if (auto v = find(e, "level"); v.IsDefined() && get_string(v, "level", rule.level))
      if (rule.level != "must" && rule.level != "should" && rule.level != "implementation-defined")
        error(v, "level must be must, should or implementation-defined (got '" + rule.level + "')");
    if (auto v = find(e, "source"); v.IsDefined()) load_source(spec, v, rule);
    if (auto v = find(e, "features"); v.IsDefined()) load_features(spec, v, rule.features);
    auto cases = find(e, "cases");
    if (cases.IsDefined()) {
      if (!cases.IsSequence() || cases.size() == 0) error(cases, "cases must be a non-empty list");
      else {
        std::map<std::string, int> case_ids;
        for (const auto& c : cases) load_case(spec, c, rule, case_ids);
      }
    }
    spec.rules.push_back(std::move(rule));
  }

  void load_source(const Spec& spec, const YAML::Node& n, Rule& rule) {
    if (!n.IsSequence() || n.size() == 0) return error(n, "source must be a non-empty list of citations");
    for (const auto& c : n) {
      Entries ce;
      if (!c.IsMap()) {
        error(c, "a citation must be a mapping {doc, section} or {api}");
        continue;
      }
      ce = entries(c);
      if (find(ce, "api").IsDefined()) {
        if (!check_fields(c, "citation", {"api"}, {}, ce)) continue;
        std::string api;
        get_string(find(ce, "api"), "api", api);
      } else {
        if (!check_fields(c, "citation", {"doc", "section"}, {}, ce)) continue;
        std::string doc, section;
        if (!get_string(find(ce, "doc"), "doc", doc) || !get_string(find(ce, "section"), "section", section)) continue;
        auto it = spec.sources.find(doc);
        if (it == spec.sources.end())
          error(find(ce, "doc"), "unknown source document '" + doc + "' (not in spec/sources.yaml)");
        else if (!it->second.count(section))
          error(find(ce, "section"), "unknown section '" + section + "' of document '" + doc + "'");
      }
    }
    rule.source = to_json(n);
  }

  void load_case(const Spec& spec, const YAML::Node& n, Rule& rule, std::map<std::string, int>& case_ids) {
    if (!n.IsMap()) return error(n, "a case must be a mapping");
    Entries e;
    check_fields(n, "case", {"id", "description", "program", "expect"}, {"features", "note"}, e);
    Case c;
    c.where = {file_, yaml_line(n)};
    auto idn = find(e, "id");
    if (idn.IsDefined() && get_string(idn, "case id", c.id)) {
      if (!is_valid_id(c.id)) error(idn, "invalid case id '" + c.id + "' (no spaces, '/', or glob characters)");
      auto [it, fresh] = case_ids.emplace(c.id, yaml_line(idn));
      if (!fresh)
        error(idn, "duplicate case id '" + c.id + "' in rule '" + rule.id + "' (first at line " +
                       std::to_string(it->second) + ")");
    }
    c.full_id = rule.id + "/" + c.id;
    if (auto v = find(e, "description"); v.IsDefined()) get_string(v, "description", c.description);
    if (auto v = find(e, "note"); v.IsDefined()) get_string(v, "note", c.note);
    if (auto v = find(e, "features"); v.IsDefined()) load_features(spec, v, c.own_features);
    c.features.insert(rule.features.begin(), rule.features.end());
    c.features.insert(c.own_features.begin(), c.own_features.end());

    Names names;
    names_ = &names;
    spec_ = &spec;
    auto program = find(e, "program");
    std::size_t steps = 0;
    if (program.IsDefined()) {
      if (!program.IsSequence()) error(program, "program must be a list of steps");
      else {
        steps = program.size();
        for (const auto& step : program) {
          names.pending_defs.clear();
          in_body_ = 0;
          check_step(step, false);
          for (const auto& [name, line] : names.pending_defs) {
            names.live.insert(name);
            names.dropped.erase(name);
          }
        }
        c.program = to_json(program);
      }
    }
    auto expect = find(e, "expect");
    if (expect.IsDefined()) {
      check_expect(expect, steps);
      c.expect = to_json(expect);
    }
    for (const auto& u : names.top_misses)
      error(u.line, names.defs.count(u.name) ? "name '" + u.name + "' is used before it is created"
                                             : "undefined name '" + u.name + "'");
    // Names used in handler bodies (and values) must be created somewhere in the case.
    for (const auto& u : names.body_uses) {
      auto it = names.defs.find(u.name);
      if (it == names.defs.end()) error(u.line, "undefined name '" + u.name + "'");
      else if (!(it->second.second & u.kinds))
        error(u.line, "'" + u.name + "' is not " + kind_name(u.kinds));
    }
    for (const auto& u : names.top_uses) {
      auto it = names.defs.find(u.name);
      if (it != names.defs.end() && !(it->second.second & u.kinds))
        error(u.line, "'" + u.name + "' is not " + kind_name(u.kinds));
    }
    names_ = nullptr;
    rule.cases.push_back(std::move(c));
  }

  // ---- names --------------------------------------------------------------
  void def_name(const YAML::Node& n, unsigned kind) {
    std::string name;
    if (!get_string(n, "name", name)) return;
    if (!is_identifier(name)) return error(n, "invalid name '" + name + "' (names are identifiers)");
    auto [it, fresh] = names_->defs.emplace(name, std::make_pair(yaml_line(n), kind));
    if (!fresh)
      return error(n, "name '" + name + "' is created twice (first at line " + std::to_string(it->second.first) + ")");
    names_->pending_defs.emplace_back(name, yaml_line(n));
  }

  void use_name(const YAML::Node& n, unsigned kinds, bool is_drop = false) {
    std::string name;
    if (!get_string(n, "name reference", name)) return;
    use_name_str(name, yaml_line(n), kinds, is_drop);
  }

  void use_name_str(const std::string& name, int line, unsigned kinds, bool is_drop = false) {
    if (!is_identifier(name)) return error(line, "invalid name '" + name + "' (names are identifiers)");
    if (in_body_ > 0 || !top_strict_) {
      names_->body_uses.push_back({name, line, kinds});
      return;
    }
    names_->top_uses.push_back({name, line, kinds});
    if (!names_->live.count(name)) {
      if (names_->dropped.count(name)) error(line, "name '" + name + "' is used after it was dropped");
      else names_->top_misses.push_back({name, line, kinds});  // before creation, or never created
      return;
    }
    if (is_drop) {
      names_->live.erase(name);
      names_->dropped.insert(name);
    }
  }

  // ---- values -------------------------------------------------------------
  // Checks the reserved $-encodings inside a value; names in $deferred are uses.
  void check_value(const YAML::Node& n, bool in_expect) {
    if (n.IsSequence()) {
      for (const auto& item : n) check_value(item, in_expect);
      return;
    }
    if (!n.IsMap()) return;
    auto e = entries(n);
    bool tagged = false;
    for (const auto& [k, v] : e)
      if (!k.empty() && k[0] == '$') tagged = true;
    if (!tagged) {
      for (const auto& [k, v] : e) check_value(v, in_expect);
      return;
    }
    if (find(e, "$failure").IsDefined()) return check_failure(n, e, in_expect);
    if (find(e, "$deferred").IsDefined()) {
      Entries de;
      if (!check_fields(n, "a $deferred value", {"$deferred"}, {}, de)) return;
      auto v = find(de, "$deferred");
      if (v.IsNull() || (v.IsScalar() && to_json(v).is_null())) return;
      std::string name;
      if (!get_string(v, "$deferred", name)) return;
      if (in_expect) {
        if (!is_identifier(name)) return error(v, "invalid name '" + name + "'");
        names_->body_uses.push_back({name, yaml_line(v), kDeferred});
      } else {
        ++in_body_;
        use_name(v, kDeferred);
        --in_body_;
      }
      return;
    }
    if (find(e, "$object").IsDefined()) {
      // {$object: NAME} names another object (a lock or semaphore: what acquire() fires with).
      Entries oe;
      if (!check_fields(n, "an $object value", {"$object"}, {}, oe)) return;
      auto v = find(oe, "$object");
      if (v.IsNull() || (v.IsScalar() && to_json(v).is_null())) return;
      std::string name;
      if (!get_string(v, "$object", name)) return;
      if (!is_identifier(name)) return error(v, "invalid name '" + name + "'");
      names_->body_uses.push_back({name, yaml_line(v), kLock | kSemaphore | kQueue});
      return;
    }
    for (const auto& [k, v] : e)
      if (!k.empty() && k[0] == '$')
        error(v.Mark().line >= 0 ? v : n, "unknown reserved key '" + k + "' (only $failure, $deferred and $object)");
  }

  bool check_error_type(const YAML::Node& n, std::string& type) {
    if (!get_string(n, "error type", type)) return false;
    if (!spec_->errors.count(type)) {
      error(n, "unknown error type '" + type + "' (not in spec/errors.yaml)");
      return false;
    }
    return true;
  }

  void check_failure(const YAML::Node& n, const Entries& e, bool in_expect) {
    std::string type;
    if (!check_error_type(find(e, "$failure"), type)) return;
    const auto& et = spec_->errors.at(type);
    std::vector<std::string> required{"$failure"};
    if (et.message) required.push_back("message");
    required.insert(required.end(), et.fields.begin(), et.fields.end());
    Entries fe;
    if (!check_fields(n, "a $failure " + type + " value", required, {}, fe)) {
      if (!et.message && find(fe, "message").IsDefined())
        error(n, type + " is a library error: observed by type alone, without message");
      return;
    }
    if (et.message) {
      std::string msg;
      get_string(find(fe, "message"), "message", msg, true);
    }
    if (auto idx = find(fe, "index"); idx.IsDefined()) {
      std::int64_t i = 0;
      if (get_int(idx, "index", i) && i < 0) error(idx, "index must be >= 0");
    }
    if (auto sub = find(fe, "sub"); sub.IsDefined()) {
      auto se = sub.IsMap() ? entries(sub) : Entries{};
      if (!sub.IsMap() || !find(se, "$failure").IsDefined()) error(sub, "sub must be a $failure value");
      else check_failure(sub, se, in_expect);
    }
  }

  // ---- steps and bodies ---------------------------------------------------
  void check_handler(const YAML::Node& n, const std::string& what) {
    Entries e;
    if (!check_fields(n, what, {"label", "do"}, {"args"}, e)) return;
    std::string label;
    get_string(find(e, "label"), "label", label);
    check_body(find(e, "do"), false);
    if (auto a = find(e, "args"); a.IsDefined()) check_value_list(a, "args");
  }

  void check_value_list(const YAML::Node& n, const std::string& what) {
    if (!n.IsSequence()) return error(n, what + " must be a list");
    for (const auto& v : n) check_value(v, false);
  }

  void check_body(const YAML::Node& n, bool coroutine) {
    if (!n.IsSequence()) return error(n, "a body must be a list of actions");
    ++in_body_;
    bool ended = false;
    for (const auto& a : n) {
      if (ended) {
        error(a, "unreachable action after the body has ended (return/raise)");
        break;
      }
      if (a.IsScalar()) {
        std::string s = a.Scalar();
        if (s == "returnArgument" || s == "raiseArgument") {
          if (coroutine) error(a, s + " is not available in a coroutine body (it receives no argument)");
          ended = true;
        } else {
          error(a, "unknown action '" + s + "' (expected returnArgument, raiseArgument or a mapping)");
        }
        continue;
      }
      if (!a.IsMap()) {
        error(a, "an action must be a mapping or returnArgument/raiseArgument");
        continue;
      }
      auto e = entries(a);
      Entries fe;
      if (find(e, "op").IsDefined()) {
        check_step(a, coroutine);
      } else if (find(e, "return").IsDefined()) {
        if (check_fields(a, "a return action", {"return"}, {}, fe)) check_value(find(fe, "return"), false);
        ended = true;
      } else if (find(e, "raise").IsDefined()) {
        std::string type;
        if (check_fields(a, "a raise action", {"raise"}, {"message"}, fe) && check_error_type(find(fe, "raise"), type))
          check_message(a, fe, type);
        ended = true;
      } else if (find(e, "returnDeferred").IsDefined()) {
        if (check_fields(a, "a returnDeferred action", {"returnDeferred"}, {}, fe))
          use_name(find(fe, "returnDeferred"), kDeferred);
        ended = true;
      } else if (find(e, "trap").IsDefined()) {
        if (coroutine) error(a, "trap is not available in a coroutine body (use await's catch)");
        if (check_fields(a, "a trap action", {"trap"}, {}, fe)) check_error_list(find(fe, "trap"), "trap");
      } else {
        error(a, "unknown action (expected op, return, raise, returnDeferred, trap, returnArgument or raiseArgument)");
      }
    }
    --in_body_;
  }

  void check_message(const YAML::Node& n, const Entries& e, const std::string& type) {
    auto m = find(e, "message");
    if (m.IsDefined()) {
      std::string msg;
      get_string(m, "message", msg, true);
    } else if (spec_->errors.at(type).message) {
      error(n, "missing field 'message' (" + type + " carries a message)");
    }
  }

  void check_error_list(const YAML::Node& n, const std::string& what) {
    if (!n.IsSequence() || n.size() == 0) return error(n, what + " must be a non-empty list of error types");
    for (const auto& t : n) {
      std::string type;
      check_error_type(t, type);
    }
  }

  void check_step(const YAML::Node& n, bool coroutine) {
    if (!n.IsMap()) return error(n, "a step must be a mapping with an 'op'");
    auto e = entries(n);
    auto opn = find(e, "op");
    if (!opn.IsDefined()) return error(n, "a step must have an 'op'");
    std::string op;
    if (!get_string(opn, "op", op)) return;
    const auto& table = op_table();
    auto it = table.find(op);
    if (it == table.end()) return error(opn, "unknown step op '" + op + "'");
    const OpSpec& spec = it->second;
    if (spec.coroutine_only && !coroutine) return error(opn, "op '" + op + "' is only allowed in a coroutine body");
    std::vector<std::string> required{"op"}, optional;
    for (const auto& f : spec.fields) (f.required ? required : optional).push_back(f.name);
    Entries fe;
    check_fields(n, "op '" + op + "'", required, optional, fe);
    // Uses first (they must exist before this step), then definitions.
    for (int pass = 0; pass < 2; ++pass) {
      for (const auto& f : spec.fields) {
        auto v = find(fe, f.name);
        if (!v.IsDefined()) continue;
        const bool is_def = f.kind == F::NameDef;
        if ((pass == 1) != is_def) continue;
        check_field(n, fe, op, f, v);
      }
    }
  }

  void check_field(const YAML::Node& step, const Entries& fe, const std::string& op, const FieldSpec& f,
                   const YAML::Node& v) {
    const std::string what = std::string(f.name);
    switch (f.kind) {
      case F::NameDef: def_name(v, f.def_kind); break;
      case F::NameUse: use_name(v, f.use_kind, op == "drop"); break;
      case F::NameList:
        if (!v.IsSequence()) error(v, what + " must be a list of names");
        else
          for (const auto& m : v) use_name(m, kDeferred);
        break;
      case F::Value: check_value(v, false); break;
      case F::ValueList: check_value_list(v, what); break;
      case F::ErrorType: {
        std::string type;
        if (check_error_type(v, type)) check_message(step, fe, type);
        break;
      }
      case F::ErrorList: check_error_list(v, what); break;
      case F::Text: {
        std::string s;
        get_string(v, what, s, true);
        break;
      }
      case F::Label: {
        std::string s;
        get_string(v, what, s);
        break;
      }
      case F::Number: {
        auto j = v.IsScalar() ? to_json(v) : json();
        if (!j.is_number() || j.get<double>() < 0) error(v, what + " must be a non-negative number");
        break;
      }
      case F::Int:
      case F::OptInt: {
        auto j = v.IsScalar() || v.IsNull() ? to_json(v) : json();
        if (f.kind == F::OptInt && j.is_null()) break;
        if (!j.is_number_integer() || j.get<std::int64_t>() < 0) error(v, what + " must be a non-negative integer");
        break;
      }
      case F::Bool:
        if (!(v.IsScalar() && to_json(v).is_boolean())) error(v, what + " must be true or false");
        break;
      case F::Handler:
        ++in_body_;
        check_handler(v, what);
        --in_body_;
        break;
      case F::Body: check_body(v, false); break;
      case F::CoBody: check_body(v, true); break;
    }
  }

  // ---- expectations -------------------------------------------------------
  void check_expect(const YAML::Node& n, std::size_t steps) {
    Entries e;
    if (!check_fields(n, "expect", {}, {"trace", "final"}, e)) return;
    ++in_body_;
    if (auto t = find(e, "trace"); t.IsDefined()) {
      if (!t.IsSequence()) error(t, "trace must be a list");
      else
        for (const auto& ev : t) check_event(ev, steps);
    }
    if (auto f = find(e, "final"); f.IsDefined()) {
      if (!f.IsMap()) error(f, "final must be a mapping of name to state");
      else
        for (const auto& [name, st] : entries(f)) check_final(name, st);
    }
    --in_body_;
  }

  void check_event(const YAML::Node& n, std::size_t steps) {
    if (!n.IsMap()) return error(n, "a trace event must be a mapping");
    auto e = entries(n);
    Entries fe;
    std::string s;
    if (find(e, "call").IsDefined()) {
      if (!check_fields(n, "a call event", {"call"}, {"arg", "args"}, fe)) return;
      get_string(find(fe, "call"), "call", s);
      if (auto a = find(fe, "arg"); a.IsDefined()) check_value(a, true);
      if (auto a = find(fe, "args"); a.IsDefined()) {
        if (!a.IsSequence()) error(a, "args must be a list");
        else check_value(a, true);
      }
    } else if (find(e, "mark").IsDefined()) {
      if (check_fields(n, "a mark event", {"mark"}, {}, fe)) get_string(find(fe, "mark"), "mark", s);
    } else if (find(e, "raised").IsDefined()) {
      if (!check_fields(n, "a raised event", {"raised", "step"}, {}, fe)) return;
      check_failure_value(find(fe, "raised"), "raised");
      std::int64_t step = 0;
      if (get_int(find(fe, "step"), "step", step) && (step < 0 || static_cast<std::size_t>(step) >= steps))
        error(find(fe, "step"), "step " + std::to_string(step) + " is not a top-level step of the program (0.." +
                                    std::to_string(steps == 0 ? 0 : steps - 1) + ")");
    } else if (find(e, "unhandled").IsDefined()) {
      if (check_fields(n, "an unhandled event", {"unhandled"}, {}, fe))
        check_failure_value(find(fe, "unhandled"), "unhandled");
    } else {
      error(n, "unknown trace event (expected call, mark, raised or unhandled)");
    }
  }

  void check_failure_value(const YAML::Node& n, const std::string& what) {
    auto e = n.IsMap() ? entries(n) : Entries{};
    if (!n.IsMap() || !find(e, "$failure").IsDefined()) return error(n, what + " must be a $failure value");
    check_failure(n, e, true);
  }

  void check_final(const std::string& name, const YAML::Node& st) {
    const int line = yaml_line(st);
    unsigned kind = 0;
    Entries e;
    if (!st.IsMap()) return error(st, "the final state of '" + name + "' must be a mapping");
    e = entries(st);
    Entries fe;
    if (auto s = find(e, "state"); s.IsDefined()) {
      kind = kDeferred;
      std::string state;
      if (!get_string(s, "state", state)) return;
      if (state == "pending") check_fields(st, "a pending state", {"state"}, {"paused"}, fe);
      else if (state == "fired") check_fields(st, "a fired state", {"state", "result"}, {}, fe);
      else if (state == "paused") check_fields(st, "a paused state", {"state", "paused", "result"}, {}, fe);
      else if (state == "waiting") check_fields(st, "a waiting state", {"state", "inner"}, {"paused"}, fe);
      else return error(s, "unknown state '" + state + "' (pending, fired, paused or waiting)");
      if (auto r = find(fe, "result"); r.IsDefined()) check_value(r, true);
      if (auto p = find(fe, "paused"); p.IsDefined()) {
        std::int64_t v = 0;
        if (get_int(p, "paused", v) && v < 1) error(p, "paused must be >= 1");
      }
      if (auto o = find(fe, "inner"); o.IsDefined() && !(o.IsNull() || to_json(o).is_null())) {
        std::string inner;
        if (get_string(o, "inner", inner)) names_->body_uses.push_back({inner, yaml_line(o), kDeferred});
      }
    } else if (find(e, "locked").IsDefined()) {
      kind = kLock;
      if (check_fields(st, "a lock state", {"locked", "waiting"}, {}, fe)) {
        if (!to_json(find(fe, "locked")).is_boolean()) error(find(fe, "locked"), "locked must be true or false");
        std::int64_t v;
        get_int(find(fe, "waiting"), "waiting", v);
      }
    } else if (find(e, "tokens").IsDefined()) {
      kind = kSemaphore;
      if (check_fields(st, "a semaphore state", {"tokens", "limit", "waiting"}, {}, fe)) {
        std::int64_t v;
        for (const char* k : {"tokens", "limit", "waiting"}) get_int(find(fe, k), k, v);
      }
    } else if (find(e, "pending").IsDefined()) {
      kind = kQueue;
      if (check_fields(st, "a queue state", {"pending", "waiting"}, {}, fe)) {
        auto p = find(fe, "pending");
        if (!p.IsSequence()) error(p, "pending must be a list");
        else check_value(p, true);
        std::int64_t v;
        get_int(find(fe, "waiting"), "waiting", v);
      }
    } else {
      return error(st, "unknown final state for '" + name + "' (a Deferred's state, or a lock, semaphore or queue)");
    }
    auto it = names_->defs.find(name);
    if (it == names_->defs.end()) error(line, "final state of undefined name '" + name + "'");
    else if (names_->dropped.count(name) && !names_->live.count(name))
      error(line, "final state of '" + name + "', which the program dropped");
    else if (!(it->second.second & kind))
      error(line, "final state of '" + name + "' does not fit its kind (" + kind_name(it->second.second) + ")");
  }

  std::map<std::string, Location> rule_ids_;

 private:
  const LoadLimits& limits_;
  std::vector<SpecError>& errors_;
  std::string file_;
  std::map<std::string, int> error_lines_;
  Names* names_ = nullptr;
  const Spec* spec_ = nullptr;
  int in_body_ = 0;
  bool top_strict_ = true;
};

}  // namespace

LoadResult load_spec(const fs::path& dir, const LoadLimits& limits) {
  LoadResult result;
  result.spec.dir = dir;
  std::string shown = dir.string();
  if (!shown.empty() && shown.back() != '/') shown += '/';
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    result.errors.push_back({{dir.string(), 0}, "not a spec directory"});
    return result;
  }
  Loader loader(limits, result.errors);
  loader.load_registries(result.spec, dir, shown);
  std::vector<fs::path> files;
  const fs::path rules = dir / "rules";
  if (fs::is_directory(rules, ec)) {
    for (const auto& entry : fs::directory_iterator(rules, ec))
      if (entry.path().extension() == ".yaml" && entry.is_regular_file(ec)) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) loader.load_rule_file(result.spec, f, shown + "rules/" + f.filename().string());
  return result;
}

LoadResult load_rule_text(const Spec& registries, const std::string& text, const std::string& shown,
                          const LoadLimits& limits) {
  LoadResult result;
  result.spec.dir = registries.dir;
  result.spec.version = registries.version;
  result.spec.format = registries.format;
  result.spec.features = registries.features;
  result.spec.errors = registries.errors;
  result.spec.sources = registries.sources;
  Loader loader(limits, result.errors);
  loader.load_rule_text(result.spec, text, shown);
  return result;
}

}  // namespace conformance
