#include "conformance/protocol_server.h"

#include <istream>
#include <ostream>
#include <string>

namespace conformance {

using nlohmann::json;

namespace {
void send(std::ostream& out, const json& j) {
  out << j.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
  out.flush();
}
}  // namespace

int serve(Implementation& impl, std::istream& in, std::ostream& out) {
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json req = json::parse(line, nullptr, false);
    if (req.is_discarded() || !req.is_object() || !req.contains("cmd") || !req["cmd"].is_string()) {
      send(out, {{"error", "malformed request"}});
      continue;
    }
    const std::string cmd = req["cmd"].get<std::string>();
    if (cmd == "stop") return 0;
    if (cmd == "start") {
      if (req.value("protocol", json()) != json(1)) {
        send(out, {{"error", "only protocol version 1 is supported"}});
        return 1;
      }
      try {
        const ImplementationInfo info = impl.info();
        json impl_json = {{"name", info.name}, {"version", info.version}, {"language", info.language}};
        if (!info.homepage.empty()) impl_json["homepage"] = info.homepage;
        send(out, {{"protocol", 1}, {"implementation", impl_json}, {"features", info.features}});
      } catch (const std::exception& e) {
        send(out, {{"error", e.what()}});
        return 1;
      }
      continue;
    }
    const json seq = req.value("seq", json());
    if (cmd == "run") {
      Outcome o;
      try {
        o = impl.run(req.value("case", std::string()), req.value("program", json::array()));
      } catch (const std::exception& e) {
        o = Outcome::errored(std::string("exception: ") + e.what());
      } catch (...) {
        o = Outcome::errored("unknown exception");
      }
      switch (o.kind) {
        case Outcome::Kind::observed:
          send(out, {{"seq", seq}, {"outcome", "observed"}, {"observations", o.observations}});
          break;
        case Outcome::Kind::skipped:
          send(out, {{"seq", seq}, {"outcome", "skipped"}, {"reason", o.message}});
          break;
        case Outcome::Kind::errored:
          send(out, {{"seq", seq}, {"outcome", "errored"}, {"message", o.message}});
          break;
      }
      continue;
    }
    if (cmd == "bench") {
      send(out, {{"seq", seq}, {"outcome", "skipped"}, {"reason", "bench is not supported by this driver"}});
      continue;
    }
    send(out, {{"seq", seq}, {"outcome", "errored"}, {"message", "unknown command: " + cmd}});
  }
  return 0;
}

}  // namespace conformance
