#include "conformance/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace conformance {

namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

ChildProcess::~ChildProcess() { kill(); }

void ChildProcess::close_fds() {
  close_fd(in_);
  close_fd(out_);
  close_fd(err_);
}

void ChildProcess::close_stdin() { close_fd(in_); }

void ChildProcess::spawn(const std::vector<std::string>& argv, const std::string& cwd) {
  kill();
  if (argv.empty()) throw std::runtime_error("empty command");
  int in[2], out[2], err[2], status[2];
  if (::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]);
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]), ::close(out[0]), ::close(out[1]);
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  if (::pipe2(status, O_CLOEXEC) != 0) {
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) ::close(fd);
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1], status[0], status[1]}) ::close(fd);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // LCOV_EXCL_START: the child execs or _exits, so gcov never writes its
    // counters (ChildProcess tests run this code all the same).
    // Child: only async-signal-safe calls from here on.
    ::setpgid(0, 0);
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    int e = 0;
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) e = errno;
    if (e == 0) {
      ::execvp(args[0], args.data());
      e = errno;
    }
    ssize_t ignored = ::write(status[1], &e, sizeof e);
    (void)ignored;
    ::_exit(127);
  }  // LCOV_EXCL_STOP
  ::setpgid(pid, pid);  // also from the parent, to avoid the race
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  ::close(status[1]);
  pid_ = pid;
  reaped_ = false;
  group_killed_ = false;
  in_ = in[1];
  out_ = out[0];
  err_ = err[0];
  int e = 0;
  ssize_t n;
  do n = ::read(status[0], &e, sizeof e);
  while (n < 0 && errno == EINTR);
  ::close(status[0]);
  if (n == static_cast<ssize_t>(sizeof e)) {
    kill();
    throw std::runtime_error("cannot execute '" + argv[0] + "'" + (cwd.empty() ? "" : " in " + cwd) + ": " +
                             std::strerror(e));
  }
  ::fcntl(in_, F_SETFL, ::fcntl(in_, F_GETFL) | O_NONBLOCK);
  ::fcntl(out_, F_SETFL, ::fcntl(out_, F_GETFL) | O_NONBLOCK);
  ::fcntl(err_, F_SETFL, ::fcntl(err_, F_GETFL) | O_NONBLOCK);
}

bool ChildProcess::poll_exit() {
  if (pid_ <= 0) return true;
  if (reaped_) return true;
  int st = 0;
  pid_t r;
  do r = ::waitpid(pid_, &st, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == pid_ || (r < 0 && errno == ECHILD)) {
    reaped_ = true;
    status_ = st;
    return true;
  }
  return false;
}

bool ChildProcess::wait_exit(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!poll_exit()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

void ChildProcess::kill() {
  if (pid_ > 0 && !group_killed_) {
    group_killed_ = true;
    ::kill(-pid_, SIGKILL);  // the whole group: grandchildren too
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      pid_t r;
      do r = ::waitpid(pid_, &st, 0);
      while (r < 0 && errno == EINTR);
      if (r == pid_) status_ = st;
      reaped_ = true;
    }
  }
  close_fds();
}

std::string ChildProcess::status_text() const {
  if (pid_ <= 0) return "not started";
  if (!reaped_) return "still running";
  if (WIFEXITED(status_)) return "exited with status " + std::to_string(WEXITSTATUS(status_));
  // waitpid() without WUNTRACED only reports ends: an exit or a signal.
  const int sig = WTERMSIG(status_);
  const char* name = sigabbrev_np(sig);
  return "killed by signal " + std::to_string(sig) + (name ? std::string(" (SIG") + name + ")" : "");
}

}  // namespace conformance
