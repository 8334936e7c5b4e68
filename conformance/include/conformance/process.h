// A child process in its own process group, with pipes for stdin/stdout/stderr.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace conformance {

class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  // Starts argv[0] (searched in PATH when it has no '/') in `cwd` (if not
  // empty). Throws std::runtime_error when it cannot be started (including
  // exec failure, reported synchronously).
  void spawn(const std::vector<std::string>& argv, const std::string& cwd);

  // SIGKILLs the whole process group and reaps the child. Idempotent.
  void kill();
  // Waits up to `timeout_ms` for the child to exit on its own; true if it did.
  bool wait_exit(int timeout_ms);
  // Non-blocking: has the child exited? (reaps it)
  bool poll_exit();
  void close_stdin();

  bool alive() const { return pid_ > 0 && !reaped_; }
  // "exited with status 3", "killed by signal 9 (SIGKILL)", "still running"
  std::string status_text() const;

  int in_fd() const { return in_; }
  int out_fd() const { return out_; }
  int err_fd() const { return err_; }
  pid_t pid() const { return pid_; }

 private:
  void close_fds();
  pid_t pid_ = -1;
  bool reaped_ = false;
  bool group_killed_ = false;
  int status_ = 0;
  int in_ = -1, out_ = -1, err_ = -1;
};

}  // namespace conformance
