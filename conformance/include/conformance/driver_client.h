// An out-of-process implementation: a driver speaking the protocol of
// conformance/PROTOCOL.md over its stdin/stdout. Never crashes or hangs
// whatever the driver does: a driver that crashes, hangs, closes its output,
// prints garbage, a wrong seq or an over-long line is killed (with its whole
// process group), the case errors with a clear reason, and the driver is
// restarted (handshake replayed) for the next case.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "conformance/implementation.h"
#include "conformance/process.h"

namespace conformance {

struct DriverOptions {
  std::vector<std::string> command;  // argv
  std::string cwd;                   // working directory ("" = inherit)
  double timeout_seconds = 10;       // per request (handshake included)
  std::size_t max_line = 16u << 20;  // longer response lines are refused
  std::size_t stderr_tail = 4096;    // bytes of stderr kept to explain failures
  int max_failed_restarts = 3;       // consecutive failed restarts before giving up
};

class DriverClient : public Implementation {
 public:
  explicit DriverClient(DriverOptions options);
  ~DriverClient() override;

  // Starts the driver and performs the handshake (once). Throws SetupError.
  ImplementationInfo info() override;
  Outcome run(const std::string& case_id, const nlohmann::json& program) override;
  // Sends {"cmd": "stop"} and waits briefly for the driver to exit, then kills it.
  void stop();

  int restarts() const { return restarts_; }
  std::string stderr_tail() const { return err_tail_; }

 private:
  enum class Io { line, timeout, eof, too_long, write_failed };
  void start();  // spawn + handshake; throws SetupError
  Io exchange(const std::string& request, std::string& line);
  void drain_stderr();
  void append_stderr(const char* data, std::size_t n);
  Outcome fail_case(const std::string& reason, const std::string& offending = {});
  std::string describe_io(Io io);
  std::string details(const std::string& offending) const;

  DriverOptions options_;
  ChildProcess proc_;
  ImplementationInfo info_;
  bool have_info_ = false;
  bool need_restart_ = false;
  bool dead_ = false;
  std::string dead_reason_;
  int failed_restarts_ = 0;
  int restarts_ = 0;
  std::uint64_t seq_ = 0;
  std::string out_buf_;
  std::size_t scan_from_ = 0;
  std::string err_tail_;
};

// The parsing of the driver's response lines, separate from the I/O (unit
// tests and the fuzz target `driver_response` call them directly). Never
// throw, whatever the line holds.
struct StartResponse {
  std::string error;  // non-empty: the line is not an acceptable handshake response (why)
  bool quote_line = false;  // the error is about the line's content: show it
  ImplementationInfo info;
};
StartResponse parse_start_response(const std::string& line);

struct RunResponse {
  std::string error;  // non-empty: the line is not a valid response to request `seq` (why)
  Outcome outcome;    // otherwise: what the driver reported
};
RunResponse parse_run_response(const std::string& line, std::uint64_t seq);

// Splits a command line shell-like: whitespace separates words; single quotes,
// double quotes (with \" \\ escapes) and backslashes quote. Throws
// std::invalid_argument on an unterminated quote.
std::vector<std::string> split_command(const std::string& line);

}  // namespace conformance
