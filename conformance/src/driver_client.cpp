#include "conformance/driver_client.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace conformance {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::string truncate(const std::string& s, std::size_t n = 300) {
  std::string out = s.size() > n ? s.substr(0, n) + "... (" + std::to_string(s.size()) + " bytes)" : s;
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n') c = '?';
  return out;
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

}  // namespace

StartResponse parse_start_response(const std::string& line) {
  StartResponse r;
  auto fail = [&](std::string why, bool quote = true) {
    r.error = std::move(why);
    r.quote_line = quote;
    return r;
  };
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail("the response is not a JSON object");
  if (j.contains("error")) {
    const auto& e = j["error"];
    return fail("the driver refused to start: " +
                    truncate(e.is_string() ? e.get<std::string>() : e.dump(-1, ' ', false, json::error_handler_t::replace)),
                false);
  }
  if (!j.contains("protocol") || !j["protocol"].is_number_integer() || j["protocol"].get<std::int64_t>() != 1)
    return fail("the driver does not speak protocol version 1");
  const auto impl = j.find("implementation");
  if (impl == j.end() || !impl->is_object() || !impl->contains("name") || !(*impl)["name"].is_string())
    return fail("the response lacks implementation.name");
  const auto feats = j.find("features");
  if (feats == j.end() || !feats->is_array()) return fail("the response lacks a features list");
  auto str = [&](const char* key) {
    auto it = impl->find(key);
    return it != impl->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  r.info.name = str("name");
  r.info.version = str("version");
  r.info.language = str("language");
  r.info.homepage = str("homepage");
  for (const auto& f : *feats) {
    if (!f.is_string()) return fail("features must be strings");
    r.info.features.insert(f.get<std::string>());
  }
  return r;
}

RunResponse parse_run_response(const std::string& line, std::uint64_t seq) {
  RunResponse r;
  auto fail = [&](std::string why) {
    r.error = std::move(why);
    return r;
  };
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail("driver printed a line that is not a JSON object");
  const auto s = j.find("seq");
  if (s == j.end() || !s->is_number_integer())
    return fail("driver response has no seq (expected " + std::to_string(seq) + ")");
  if (s->get<std::int64_t>() != static_cast<std::int64_t>(seq))
    return fail("driver answered with seq " + s->dump() + ", expected " + std::to_string(seq));
  const auto o = j.find("outcome");
  if (o == j.end() || !o->is_string()) return fail("driver response has no outcome");
  const auto& outcome = o->get_ref<const std::string&>();
  if (outcome == "observed") {
    auto obs = j.find("observations");
    if (obs == j.end() || !obs->is_object()) return fail("driver response lacks an observations object");
    r.outcome = Outcome::observed(std::move(*obs));
    return r;
  }
  if (outcome == "skipped" || outcome == "errored") {
    const char* key = outcome == "skipped" ? "reason" : "message";
    auto m = j.find(key);
    std::string text = m != j.end() && m->is_string() ? m->get<std::string>() : std::string("(no ") + key + ")";
    r.outcome = outcome == "skipped" ? Outcome::skipped(text)
                                     : Outcome::errored("driver could not run the case: " + text);
    return r;
  }
  return fail("driver response has an unknown outcome '" + truncate(outcome, 60) + "'");
}

std::vector<std::string> split_command(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) out.push_back(cur), cur.clear(), in_word = false;
    } else if (c == '\'') {
      in_word = true;
      const auto end = line.find('\'', i + 1);
      if (end == std::string::npos) throw std::invalid_argument("unterminated ' in command");
      cur += line.substr(i + 1, end - i - 1);
      i = end;
    } else if (c == '"') {
      in_word = true;
      ++i;
      for (; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\' && i + 1 < line.size() && (line[i + 1] == '"' || line[i + 1] == '\\')) ++i;
        cur += line[i];
      }
      if (i >= line.size()) throw std::invalid_argument("unterminated \" in command");
    } else if (c == '\\' && i + 1 < line.size()) {
      in_word = true;
      cur += line[++i];
    } else {
      in_word = true;
      cur += c;
    }
  }
  if (in_word) out.push_back(cur);
  return out;
}

DriverClient::DriverClient(DriverOptions options) : options_(std::move(options)) {
  ::signal(SIGPIPE, SIG_IGN);  // a driver that goes away must not kill the runner
}

DriverClient::~DriverClient() { stop(); }

void DriverClient::append_stderr(const char* data, std::size_t n) {
  err_tail_.append(data, n);
  if (err_tail_.size() > 2 * options_.stderr_tail) err_tail_.erase(0, err_tail_.size() - options_.stderr_tail);
}

void DriverClient::drain_stderr() {
  if (proc_.err_fd() < 0) return;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(proc_.err_fd(), buf, sizeof buf);
    if (n > 0) append_stderr(buf, static_cast<std::size_t>(n));
    else break;
  }
}

DriverClient::Io DriverClient::exchange(const std::string& request, std::string& line) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(options_.timeout_seconds));
  std::size_t written = 0;
  bool err_open = proc_.err_fd() >= 0;
  char buf[65536];
  for (;;) {
    // A complete line already buffered?
    const auto nl = out_buf_.find('\n', scan_from_);
    if (nl != std::string::npos) {
      if (nl > options_.max_line) return Io::too_long;
      line.assign(out_buf_, 0, nl);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      out_buf_.erase(0, nl + 1);
      scan_from_ = 0;
      return Io::line;
    }
    scan_from_ = out_buf_.size();
    if (out_buf_.size() > options_.max_line) return Io::too_long;

    const auto now = Clock::now();
    if (now >= deadline) return Io::timeout;
    const auto left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;

    pollfd fds[3];
    nfds_t n = 0;
    int out_i = -1, err_i = -1, in_i = -1;
    fds[n] = {proc_.out_fd(), POLLIN, 0};
    out_i = static_cast<int>(n++);
    if (err_open) {
      fds[n] = {proc_.err_fd(), POLLIN, 0};
      err_i = static_cast<int>(n++);
    }
    if (written < request.size()) {
      fds[n] = {proc_.in_fd(), POLLOUT, 0};
      in_i = static_cast<int>(n++);
    }
    const int r = ::poll(fds, n, static_cast<int>(std::min<long long>(left_ms, 1000 * 1000)));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Io::eof;
    }
    if (in_i >= 0 && fds[in_i].revents) {
      const ssize_t w = ::write(proc_.in_fd(), request.data() + written, request.size() - written);
      if (w > 0) written += static_cast<std::size_t>(w);
      else if (w < 0 && errno != EAGAIN && errno != EINTR) return Io::write_failed;
    }
    if (err_i >= 0 && fds[err_i].revents) {
      const ssize_t e = ::read(proc_.err_fd(), buf, sizeof buf);
      if (e > 0) append_stderr(buf, static_cast<std::size_t>(e));
      else if (e == 0 || (errno != EAGAIN && errno != EINTR)) err_open = false;
    }
    if (fds[out_i].revents) {
      const ssize_t o = ::read(proc_.out_fd(), buf, sizeof buf);
      if (o > 0) out_buf_.append(buf, static_cast<std::size_t>(o));
      else if (o == 0 || (errno != EAGAIN && errno != EINTR)) {
        drain_stderr();
        return Io::eof;
      }
    }
  }
}

std::string DriverClient::describe_io(Io io) {
  switch (io) {
    case Io::timeout:
      return "driver timed out: no response within " + seconds_text(options_.timeout_seconds) + " s";
    case Io::too_long:
      return "driver response line longer than " + std::to_string(options_.max_line >> 20) + " MiB (refused)";
    case Io::eof:
    case Io::write_failed: {
      proc_.wait_exit(200);
      drain_stderr();
      if (proc_.poll_exit()) return "driver crashed without answering: " + proc_.status_text();
      return std::string("driver ") + (io == Io::eof ? "closed its standard output" : "stopped reading its input") +
             " without answering";
    }
    case Io::line:
      break;
  }
  return "driver error";
}

std::string DriverClient::details(const std::string& offending) const {
  std::string d;
  if (!offending.empty()) d += "driver output: " + truncate(offending) + "\n";
  d += "driver command:";
  for (const auto& a : options_.command) d += " " + a;
  d += "\n";
  if (!err_tail_.empty()) {
    const std::string tail =
        err_tail_.size() > options_.stderr_tail ? err_tail_.substr(err_tail_.size() - options_.stderr_tail) : err_tail_;
    d += "driver stderr (last " + std::to_string(options_.stderr_tail) + " bytes):\n" + tail;
  }
  return d;
}

void DriverClient::start() {
  proc_.kill();
  out_buf_.clear();
  scan_from_ = 0;
  err_tail_.clear();
  try {
    proc_.spawn(options_.command, options_.cwd);
  } catch (const std::exception& e) {
    throw SetupError(std::string("cannot start driver: ") + e.what());
  }
  std::string line;
  const Io io = exchange(json{{"cmd", "start"}, {"protocol", 1}}.dump() + "\n", line);
  auto fail = [&](const std::string& why, const std::string& text = {}) {
    const std::string d = details(text);
    proc_.kill();
    throw SetupError("driver handshake failed: " + why + "\n" + d);
  };
  if (io != Io::line) fail(describe_io(io));
  StartResponse r = parse_start_response(line);
  if (!r.error.empty()) fail(r.error, r.quote_line ? line : std::string());
  ImplementationInfo& info = r.info;
  if (have_info_ && (info.name != info_.name || info.features != info_.features))
    fail("the restarted driver presents a different implementation or features", line);
  info_ = std::move(info);
  have_info_ = true;
  need_restart_ = false;
}

ImplementationInfo DriverClient::info() {
  if (!have_info_) start();
  return info_;
}

Outcome DriverClient::fail_case(const std::string& reason, const std::string& offending) {
  drain_stderr();
  std::string d = details(offending);
  proc_.kill();
  need_restart_ = true;
  return Outcome::errored(reason, d);
}

Outcome DriverClient::run(const std::string& case_id, const json& program) {
  if (dead_) return Outcome::errored("driver unavailable: " + dead_reason_);
  if (!have_info_ || need_restart_) {
    try {
      if (have_info_) ++restarts_;
      start();
      failed_restarts_ = 0;
    } catch (const SetupError& e) {
      need_restart_ = true;
      if (++failed_restarts_ >= options_.max_failed_restarts) {
        dead_ = true;
        dead_reason_ = std::to_string(failed_restarts_) + " restarts failed in a row; last: " + e.what();
      }
      return Outcome::errored(std::string("driver restart failed: ") + e.what());
    }
  }
  const std::uint64_t seq = ++seq_;
  json req = {{"cmd", "run"}, {"seq", seq}, {"case", case_id}, {"program", program}};
  std::string line;
  const Io io = exchange(req.dump(-1, ' ', false, json::error_handler_t::replace) + "\n", line);
  if (io != Io::line) {
    const std::string partial = out_buf_.substr(0, 300);
    out_buf_.clear();
    scan_from_ = 0;
    return fail_case(describe_io(io), partial);
  }
  RunResponse r = parse_run_response(line, seq);
  if (!r.error.empty()) return fail_case(r.error, line);
  if (r.outcome.kind == Outcome::Kind::errored) {
    drain_stderr();
    r.outcome.details = details({});
  }
  return std::move(r.outcome);
}

void DriverClient::stop() {
  if (!proc_.alive()) {
    proc_.kill();
    return;
  }
  if (proc_.in_fd() >= 0) {
    const std::string msg = "{\"cmd\":\"stop\"}\n";
    ssize_t ignored = ::write(proc_.in_fd(), msg.data(), msg.size());
    (void)ignored;
    proc_.close_stdin();
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(1000);
  while (!proc_.poll_exit() && Clock::now() < deadline) {
    drain_stderr();
    pollfd p{proc_.out_fd(), POLLIN, 0};
    if (::poll(&p, 1, 5) > 0) {
      char buf[4096];
      if (::read(proc_.out_fd(), buf, sizeof buf) <= 0) proc_.wait_exit(50);
    }
  }
  proc_.kill();
}

}  // namespace conformance
