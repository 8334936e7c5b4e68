// ChildProcess: start failures reported synchronously, statuses as text.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <stdexcept>
#include <string>

#include "conformance/process.h"

using namespace conformance;

namespace {

int open_fds() {
  int n = 0;
  for (int fd = 0; fd < 1024; ++fd)
    if (::fcntl(fd, F_GETFD) != -1) ++n;
  return n;
}

// Lowers the soft RLIMIT_NOFILE until destroyed, so that exactly `free`
// more descriptors can be opened.
class FdLimit {
 public:
  explicit FdLimit(int free) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    int limit = 0;
    for (int found = 0;; ++limit) {
      if (::fcntl(limit, F_GETFD) == -1 && errno == EBADF && found++ == free) break;
    }
    rlimit low = saved_;
    low.rlim_cur = static_cast<rlim_t>(limit);
    ::setrlimit(RLIMIT_NOFILE, &low);
  }
  ~FdLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  FdLimit(const FdLimit&) = delete;
  FdLimit& operator=(const FdLimit&) = delete;

 private:
  rlimit saved_{};
};

// What spawn() threw (null if it started the child), caught without a
// member call: UBSan's check of one needs a pipe, which a test that has
// used up the descriptors cannot give it.
std::exception_ptr spawn_failure(const std::vector<std::string>& argv, const std::string& cwd = "") {
  ChildProcess p;
  try {
    p.spawn(argv, cwd);
  } catch (...) {
    EXPECT_FALSE(p.alive());
    return std::current_exception();
  }
  return nullptr;
}

std::string message_of(const std::exception_ptr& failure) {
  if (!failure) return "started";
  try {
    std::rethrow_exception(failure);
  } catch (const std::runtime_error& e) {
    return e.what();
  } catch (...) {
    return "not a std::runtime_error";
  }
}

std::string spawn_error(const std::vector<std::string>& argv, const std::string& cwd = "") {
  return message_of(spawn_failure(argv, cwd));
}

}  // namespace

TEST(ChildProcess, OutOfDescriptorsEachPipeFailsCleanly) {
  // spawn() opens four pipes: with 1, 3, 5 or 7 descriptors left, the
  // first, second, third or fourth fails; none of the others leaks.
  const int before = open_fds();
  for (int free : {1, 3, 5, 7}) {
    SCOPED_TRACE(free);
    std::exception_ptr failure;
    {
      FdLimit limit(free);
      failure = spawn_failure({"true"});
    }
    EXPECT_EQ(message_of(failure), "pipe: Too many open files");
    EXPECT_EQ(open_fds(), before);
  }
}

TEST(ChildProcess, ExecAndChdirFailuresAreReportedWithTheFolder) {
  EXPECT_EQ(spawn_error({}), "empty command");
  EXPECT_EQ(spawn_error({"/nonexistent/driver"}), "cannot execute '/nonexistent/driver': No such file or directory");
  EXPECT_EQ(spawn_error({"/nonexistent/driver"}, "/"),
            "cannot execute '/nonexistent/driver' in /: No such file or directory");
  EXPECT_EQ(spawn_error({"true"}, "/nonexistent/folder"),
            "cannot execute 'true' in /nonexistent/folder: No such file or directory");
}

TEST(ChildProcess, StatusText) {
  ChildProcess p;
  EXPECT_EQ(p.status_text(), "not started");
  EXPECT_TRUE(p.poll_exit());  // nothing to wait for
  p.spawn({"sh", "-c", "exit 3"}, "");
  ASSERT_TRUE(p.wait_exit(5000));
  EXPECT_EQ(p.status_text(), "exited with status 3");
  ChildProcess sleeper;
  sleeper.spawn({"sleep", "30"}, "");
  EXPECT_EQ(sleeper.status_text(), "still running");
  sleeper.kill();
  EXPECT_EQ(sleeper.status_text(), "killed by signal 9 (SIGKILL)");
  EXPECT_FALSE(sleeper.alive());
}
