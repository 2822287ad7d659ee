// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * testbot: a small real bot process for launcher tests and benchmarks.
 * Plain C++17 and POSIX, no Qt. All output goes through write(2), never stdio,
 * so nothing is held back in a buffer when stdout is a pipe.
 *
 * Actions run once each, in the order they are given on the command line:
 *   --pid                  print "pid <pid> pgid <pgid>"
 *   --print-env NAME       print "NAME=<value>", or "NAME unset"
 *   --grandchild           fork a grandchild in the same process group, print
 *                          "grandchild pid <pid>"; the grandchild keeps stdin,
 *                          stdout and stderr open, takes every signal's default
 *                          action and sleeps forever
 *   --text STR             write STR exactly once, no newline added; escapes:
 *                          \n \r \t \\ \xHH (two hex digits); any other backslash
 *                          is written as it is
 *   --err-text STR         the same, to stderr
 *   --cat FILE             copy FILE's bytes to stdout exactly
 *   --big-line BYTES       write BYTES times 'x' and a newline (BYTES + 1 bytes)
 *   --lines N              write N numbered lines (format below)
 *   --busy MS              burn CPU on one core for MS milliseconds
 * Settings, wherever they appear:
 *   --rate R               numbered lines per second (fractions allowed); 0, the
 *                          default, is as fast as possible
 *   --size B               bytes per numbered line, newline included (default 50)
 *   --stderr               numbered lines (--lines, --flood, "print") go to stderr
 *   --flood                numbered lines are written in batches of up to 1 MiB,
 *                          one write(2) each; without --lines, lines are written
 *                          without end after the other actions. Without --flood
 *                          each numbered line is its own write(2).
 *   --exit-code N          the exit code when the bot ends on its own (default 0)
 *   --exit-after MS        exit with --exit-code MS ms after start, whatever the bot
 *                          is doing (even mid-line); until then it does not end
 *   --sleep MS             after the actions (and the --stdin session), wait MS ms
 *   --forever              never end on its own (--exit-after still applies)
 *   --stdin                after the actions, answer commands read from stdin,
 *                          one a line (a trailing \r is dropped), until EOF:
 *                            echo <text>  -> "<text>"
 *                            exit [<n>]   -> exit at once with n (else --exit-code)
 *                            crash        -> abort()
 *                            print <n>    -> the next n numbered lines
 *                            env <NAME>   -> "NAME=<value>" or "NAME unset"
 *                            pid          -> "pid <pid> pgid <pgid>"
 *                            other        -> "unknown: <line>"
 *   --ignore-sigterm       on SIGTERM print "ignoring SIGTERM" and go on
 *   --on-sigterm-exit N    on SIGTERM print "got SIGTERM" and exit with N (takes
 *                          precedence over --ignore-sigterm)
 *   --signal-report        print "got SIGUSR1", "got SIGUSR2" or "got SIGHUP" when
 *                          one arrives (otherwise they keep their default action)
 *   --grandchild-ignore-sigterm  grandchildren ignore SIGTERM
 *   --help                 print this summary
 *
 * The run is: the actions in order, then the --stdin session until EOF, then
 * --sleep, then waiting for --forever or the --exit-after deadline, then exit with
 * --exit-code. Without --stdin, --sleep, --forever and --exit-after the bot exits
 * as soon as its output is written.
 *
 * Numbered line n (n counts from 1 across all --lines, --flood and "print"):
 *   "line " + n in decimal, zero-padded to 9 digits (more once n >= 10^9) + " ",
 *   then 'x' until the line is B - 1 bytes long, then "\n". A line is never shorter
 *   than that prefix plus the newline (16 bytes while n < 10^9). With B = 50:
 *   "line 000000001 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
 * A test recomputes it with:
 *   QByteArray testbotLine(qint64 n, qsizetype size = 50)
 *   {
 *       QByteArray line = "line " + QByteArray::number(n).rightJustified(9, '0') + ' ';
 *       if (line.size() < size - 1)
 *           line.append(size - 1 - line.size(), 'x');
 *       return line + '\n';
 *   }
 *
 * Status lines (pid, env, grandchild, signal reports, command answers) always go to
 * stdout as single write(2) calls. Signals are noted by their handler and reported
 * between writes, so a report never splits a numbered line. SIGPIPE takes its
 * default action (the bot dies when its reader is gone).
 * Exit codes of the bot itself: 64 bad command line, 66 --cat file unreadable,
 * 74 write error other than EPIPE.
 */

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

namespace {

constexpr size_t ChunkBytes = 1 << 20;
constexpr int ExitUsage = 64;
constexpr int ExitNoInput = 66;
constexpr int ExitIoError = 74;

enum class ActionKind { Pid, PrintEnv, Grandchild, Text, ErrText, Cat, BigLine, Lines, Busy };

struct Action
{
    ActionKind kind;
    std::string text;
    long long number = 0; // -1 for --lines: without end
};

struct Options
{
    std::vector<Action> actions;
    double rate = 0;
    long long size = 50;
    bool toStderr = false;
    bool flood = false;
    long long exitAfterMs = -1;
    long long sleepMs = -1;
    bool forever = false;
    bool readStdin = false;
    bool ignoreSigterm = false;
    int onSigtermExit = -1;
    bool signalReport = false;
    bool grandchildIgnoreSigterm = false;
};

Options g_options;
volatile sig_atomic_t g_exitCode = 0;
volatile sig_atomic_t g_sigterm = 0;
volatile sig_atomic_t g_sigusr1 = 0;
volatile sig_atomic_t g_sigusr2 = 0;
volatile sig_atomic_t g_sighup = 0;
int g_wakeRead = -1;
int g_wakeWrite = -1;

// ---- output -------------------------------------------------------------

void writeAll(int fd, const char* data, size_t len)
{
    while (len > 0) {
        const ssize_t n = ::write(fd, data, len);
        if (n > 0) {
            data += n;
            len -= size_t(n);
        } else if (n < 0 && errno == EAGAIN) {
            // A non-blocking pipe inherited from the parent: wait until it drains.
            fd_set out;
            FD_ZERO(&out);
            FD_SET(fd, &out);
            ::select(fd + 1, nullptr, &out, nullptr, nullptr);
        } else if (n < 0 && errno != EINTR) {
            _exit(ExitIoError);
        }
    }
}

void writeAll(int fd, const std::string& s)
{
    writeAll(fd, s.data(), s.size());
}

void say(const std::string& line)
{
    writeAll(STDOUT_FILENO, line + '\n');
}

std::string pidLine()
{
    return "pid " + std::to_string(::getpid()) + " pgid " + std::to_string(::getpgrp());
}

std::string envLine(const std::string& name)
{
    const char* value = std::getenv(name.c_str());
    return value ? name + '=' + value : name + " unset";
}

// ---- time ---------------------------------------------------------------

long long nowNs()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

// ---- signals ------------------------------------------------------------

void onSignal(int sig)
{
    const int savedErrno = errno;
    switch (sig) {
    case SIGTERM:
        g_sigterm = g_sigterm + 1;
        break;
    case SIGUSR1:
        g_sigusr1 = g_sigusr1 + 1;
        break;
    case SIGUSR2:
        g_sigusr2 = g_sigusr2 + 1;
        break;
    case SIGHUP:
        g_sighup = g_sighup + 1;
        break;
    default:
        break;
    }
    if (g_wakeWrite >= 0) {
        const char byte = 0;
        [[maybe_unused]] const ssize_t ignored = ::write(g_wakeWrite, &byte, 1);
    }
    errno = savedErrno;
}

[[noreturn]] void onAlarm(int)
{
    _exit(g_exitCode);
}

void setHandler(int sig, void (*handler)(int))
{
    struct sigaction sa = {};
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; // no SA_RESTART: blocking calls return so the signal is reported soon
    ::sigaction(sig, &sa, nullptr);
}

void installSignals()
{
    int fds[2];
    if (::pipe(fds) == 0) {
        g_wakeRead = fds[0];
        g_wakeWrite = fds[1];
        for (int fd : fds) {
            ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
            ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
    }
    // Dispositions inherited from the launcher must not change how the bot behaves.
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE})
        setHandler(sig, SIG_DFL);
    if (g_options.ignoreSigterm || g_options.onSigtermExit >= 0)
        setHandler(SIGTERM, onSignal);
    if (g_options.signalReport) {
        setHandler(SIGUSR1, onSignal);
        setHandler(SIGUSR2, onSignal);
        setHandler(SIGHUP, onSignal);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (g_options.exitAfterMs >= 0) {
        setHandler(SIGALRM, onAlarm);
        itimerval timer = {};
        timer.it_value.tv_sec = g_options.exitAfterMs / 1000;
        timer.it_value.tv_usec = (g_options.exitAfterMs % 1000) * 1000;
        if (g_options.exitAfterMs == 0)
            timer.it_value.tv_usec = 1;
        ::setitimer(ITIMER_REAL, &timer, nullptr);
    }
}

/// Reports the signals that arrived since the last call; may exit. Cheap enough to
/// call between any two writes: it reads the handler's counters only.
void handleSignals()
{
    static sig_atomic_t seenTerm = 0, seenUsr1 = 0, seenUsr2 = 0, seenHup = 0;
    while (seenTerm != g_sigterm) {
        ++seenTerm;
        if (g_options.onSigtermExit >= 0) {
            say("got SIGTERM");
            _exit(g_options.onSigtermExit);
        }
        say("ignoring SIGTERM");
    }
    while (seenUsr1 != g_sigusr1) {
        ++seenUsr1;
        say("got SIGUSR1");
    }
    while (seenUsr2 != g_sigusr2) {
        ++seenUsr2;
        say("got SIGUSR2");
    }
    while (seenHup != g_sighup) {
        ++seenHup;
        say("got SIGHUP");
    }
}

/// Waits until deadlineNs (-1: no deadline) or, with watchStdin, until stdin is
/// readable, reporting signals meanwhile. Returns whether stdin is readable.
bool waitUntil(long long deadlineNs, bool watchStdin)
{
    for (;;) {
        handleSignals();
        timespec timeout{};
        timespec* timeoutPtr = nullptr;
        if (deadlineNs >= 0) {
            const long long left = deadlineNs - nowNs();
            if (left <= 0)
                return false;
            timeout.tv_sec = time_t(left / 1000000000LL);
            timeout.tv_nsec = long(left % 1000000000LL);
            timeoutPtr = &timeout;
        }
        fd_set in;
        FD_ZERO(&in);
        int maxFd = -1;
        if (g_wakeRead >= 0) {
            FD_SET(g_wakeRead, &in);
            maxFd = g_wakeRead;
        }
        if (watchStdin) {
            FD_SET(STDIN_FILENO, &in);
            if (STDIN_FILENO > maxFd)
                maxFd = STDIN_FILENO;
        }
        const int ready = ::pselect(maxFd + 1, &in, nullptr, nullptr, timeoutPtr, nullptr);
        if (ready > 0 && g_wakeRead >= 0 && FD_ISSET(g_wakeRead, &in)) {
            char drain[64];
            while (::read(g_wakeRead, drain, sizeof drain) > 0) {
            }
        }
        if (ready > 0 && watchStdin && FD_ISSET(STDIN_FILENO, &in))
            return true;
        if (ready < 0 && errno == EBADF && watchStdin)
            return true; // a closed stdin: let read() report it
    }
}

void sleepFor(long long ms)
{
    waitUntil(nowNs() + ms * 1000000LL, false);
}

// ---- numbered lines -----------------------------------------------------

/// Writes numbered lines; the numbering continues across calls.
class LineWriter
{
public:
    void write(long long count)
    {
        const int fd = g_options.toStderr ? STDERR_FILENO : STDOUT_FILENO;
        if (g_options.rate <= 0) {
            if (count < 0) {
                for (;;)
                    writeBatch(fd, 1 << 20);
            }
            writeBatch(fd, count);
            return;
        }
        // Line k (from 0) is due at start + k / rate; everything due is written at once.
        const long long start = nowNs();
        long long written = 0;
        while (count < 0 || written < count) {
            const double elapsed = double(nowNs() - start) / 1e9;
            long long due = static_cast<long long>(std::floor(elapsed * g_options.rate)) + 1;
            if (count >= 0 && due > count)
                due = count;
            if (due > written) {
                writeBatch(fd, due - written);
                written = due;
            }
            if (count >= 0 && written >= count)
                break;
            waitUntil(start + static_cast<long long>(std::ceil(double(written) / g_options.rate * 1e9)), false);
        }
    }

private:
    void buildTemplate()
    {
        const size_t prefix = 5 + size_t(m_digits.size()) + 1;
        const size_t len = size_t(g_options.size) > prefix + 1 ? size_t(g_options.size) : prefix + 1;
        m_template.assign(len, 'x');
        std::memcpy(&m_template[0], "line ", 5);
        m_template[prefix - 1] = ' ';
        m_template[len - 1] = '\n';
    }

    void increment()
    {
        for (size_t i = m_digits.size(); i-- > 0;) {
            if (m_digits[i] != '9') {
                ++m_digits[i];
                return;
            }
            m_digits[i] = '0';
        }
        m_digits.insert(m_digits.begin(), '1');
        m_template.clear();
    }

    /// Appends the current line to m_buffer and moves to the next number.
    void appendLine()
    {
        if (m_template.empty())
            buildTemplate();
        const size_t at = m_buffer.size();
        m_buffer.append(m_template);
        std::memcpy(&m_buffer[at + 5], m_digits.data(), m_digits.size());
        increment();
    }

    void writeBatch(int fd, long long count)
    {
        m_buffer.reserve(ChunkBytes + 4096);
        while (count > 0) {
            m_buffer.clear();
            if (g_options.flood) {
                do {
                    appendLine();
                    --count;
                } while (count > 0 && m_buffer.size() + m_template.size() <= ChunkBytes);
            } else {
                appendLine();
                --count;
            }
            writeAll(fd, m_buffer);
            handleSignals();
        }
    }

    std::string m_digits = "000000001";
    std::string m_template;
    std::string m_buffer;
};

LineWriter g_lines;

// ---- actions ------------------------------------------------------------

std::string unescape(const std::string& s)
{
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 >= s.size()) {
            out += s[i];
            continue;
        }
        const char c = s[i + 1];
        auto hex = [](char h) {
            if (h >= '0' && h <= '9')
                return h - '0';
            if (h >= 'a' && h <= 'f')
                return h - 'a' + 10;
            if (h >= 'A' && h <= 'F')
                return h - 'A' + 10;
            return -1;
        };
        if (c == 'n' || c == 'r' || c == 't' || c == '\\') {
            out += c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : '\\';
            ++i;
        } else if (c == 'x' && i + 3 < s.size() && hex(s[i + 2]) >= 0 && hex(s[i + 3]) >= 0) {
            out += char(hex(s[i + 2]) * 16 + hex(s[i + 3]));
            i += 3;
        } else {
            out += '\\';
        }
    }
    return out;
}

void catFile(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        writeAll(STDERR_FILENO, "testbot: cannot open " + path + ": " + std::strerror(errno) + '\n');
        _exit(ExitNoInput);
    }
    std::vector<char> buffer(ChunkBytes);
    for (;;) {
        const ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            writeAll(STDERR_FILENO, "testbot: cannot read " + path + ": " + std::strerror(errno) + '\n');
            _exit(ExitNoInput);
        }
        if (n == 0)
            break;
        writeAll(STDOUT_FILENO, buffer.data(), size_t(n));
        handleSignals();
    }
    ::close(fd);
}

void bigLine(long long bytes)
{
    const std::string chunk(std::min(size_t(bytes), ChunkBytes), 'x');
    for (size_t left = size_t(bytes); left > 0;) {
        const size_t n = std::min(left, chunk.size());
        writeAll(STDOUT_FILENO, chunk.data(), n);
        left -= n;
        handleSignals();
    }
    writeAll(STDOUT_FILENO, "\n", 1);
}

void busy(long long ms)
{
    const long long end = nowNs() + ms * 1000000LL;
    volatile std::uint64_t sink = 1;
    while (nowNs() < end) {
        for (int i = 0; i < 10000; ++i)
            sink = sink * 6364136223846793005ULL + 1442695040888963407ULL;
        handleSignals();
    }
}

void startGrandchild()
{
    const pid_t pid = ::fork();
    if (pid < 0) {
        writeAll(STDERR_FILENO, std::string("testbot: fork: ") + std::strerror(errno) + '\n');
        return;
    }
    if (pid == 0) {
        for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM})
            setHandler(sig, SIG_DFL);
        if (g_options.grandchildIgnoreSigterm)
            setHandler(SIGTERM, SIG_IGN);
        ::close(g_wakeRead);
        ::close(g_wakeWrite);
        g_wakeRead = g_wakeWrite = -1;
        for (;;)
            ::pause();
    }
    say("grandchild pid " + std::to_string(pid));
}

void runAction(const Action& action)
{
    switch (action.kind) {
    case ActionKind::Pid:
        say(pidLine());
        break;
    case ActionKind::PrintEnv:
        say(envLine(action.text));
        break;
    case ActionKind::Grandchild:
        startGrandchild();
        break;
    case ActionKind::Text:
        writeAll(STDOUT_FILENO, action.text);
        break;
    case ActionKind::ErrText:
        writeAll(STDERR_FILENO, action.text);
        break;
    case ActionKind::Cat:
        catFile(action.text);
        break;
    case ActionKind::BigLine:
        bigLine(action.number);
        break;
    case ActionKind::Lines:
        g_lines.write(action.number);
        break;
    case ActionKind::Busy:
        busy(action.number);
        break;
    }
    handleSignals();
}

// ---- --stdin ------------------------------------------------------------

bool parseNumber(const std::string& s, long long min, long long max, long long* out)
{
    if (s.empty())
        return false;
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

void runCommand(std::string line)
{
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    const size_t space = line.find(' ');
    const std::string word = line.substr(0, space);
    const std::string rest = space == std::string::npos ? std::string() : line.substr(space + 1);
    long long n = 0;
    if (word == "echo") {
        say(rest);
    } else if (word == "exit" && rest.empty()) {
        _exit(g_exitCode);
    } else if (word == "exit" && parseNumber(rest, 0, 255, &n)) {
        _exit(int(n));
    } else if (line == "crash") {
        std::abort();
    } else if (word == "print" && parseNumber(rest, 0, LLONG_MAX, &n)) {
        g_lines.write(n);
    } else if (word == "env" && !rest.empty()) {
        say(envLine(rest));
    } else if (line == "pid") {
        say(pidLine());
    } else {
        say("unknown: " + line);
    }
}

void stdinSession()
{
    std::string pending;
    std::vector<char> buffer(65536);
    for (;;) {
        if (!waitUntil(-1, true))
            continue;
        const ssize_t n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break;
        pending.append(buffer.data(), size_t(n));
        size_t start = 0;
        for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1)
            runCommand(pending.substr(start, nl - start));
        pending.erase(0, start);
    }
    if (!pending.empty())
        runCommand(pending);
}

// ---- command line -------------------------------------------------------

[[noreturn]] void usageError(const std::string& message)
{
    writeAll(STDERR_FILENO, "testbot: " + message + " (see --help)\n");
    _exit(ExitUsage);
}

long long numberArg(const char* option, const char* value, long long min, long long max)
{
    long long v = 0;
    if (!parseNumber(value, min, max, &v))
        usageError(std::string(option) + ": bad value '" + value + "'");
    return v;
}

void parseArguments(int argc, char** argv)
{
    Options& o = g_options;
    bool haveLines = false;
    for (int i = 1; i < argc; ++i) {
        const std::string opt = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc)
                usageError(opt + " needs a value");
            return argv[++i];
        };
        if (opt == "--help") {
            writeAll(STDOUT_FILENO,
                     "usage: testbot [options]; the options are described at the top of "
                     "tests/support/testbot.cpp\n");
            _exit(0);
        } else if (opt == "--pid") {
            o.actions.push_back({ActionKind::Pid, {}, 0});
        } else if (opt == "--print-env") {
            o.actions.push_back({ActionKind::PrintEnv, value(), 0});
        } else if (opt == "--grandchild") {
            o.actions.push_back({ActionKind::Grandchild, {}, 0});
        } else if (opt == "--text") {
            o.actions.push_back({ActionKind::Text, unescape(value()), 0});
        } else if (opt == "--err-text") {
            o.actions.push_back({ActionKind::ErrText, unescape(value()), 0});
        } else if (opt == "--cat") {
            o.actions.push_back({ActionKind::Cat, value(), 0});
        } else if (opt == "--big-line") {
            o.actions.push_back({ActionKind::BigLine, {}, numberArg("--big-line", value(), 0, LLONG_MAX)});
        } else if (opt == "--lines") {
            o.actions.push_back({ActionKind::Lines, {}, numberArg("--lines", value(), 0, LLONG_MAX)});
            haveLines = true;
        } else if (opt == "--busy") {
            o.actions.push_back({ActionKind::Busy, {}, numberArg("--busy", value(), 0, LLONG_MAX / 1000000)});
        } else if (opt == "--rate") {
            const char* v = value();
            char* end = nullptr;
            o.rate = std::strtod(v, &end);
            if (*v == '\0' || *end != '\0' || !(o.rate >= 0 && o.rate <= 1e12))
                usageError(std::string("--rate: bad value '") + v + "'");
        } else if (opt == "--size") {
            o.size = numberArg("--size", value(), 1, 1LL << 30);
        } else if (opt == "--stderr") {
            o.toStderr = true;
        } else if (opt == "--flood") {
            o.flood = true;
        } else if (opt == "--exit-code") {
            g_exitCode = int(numberArg("--exit-code", value(), 0, 255));
        } else if (opt == "--exit-after") {
            o.exitAfterMs = numberArg("--exit-after", value(), 0, INT_MAX);
        } else if (opt == "--sleep") {
            o.sleepMs = numberArg("--sleep", value(), 0, LLONG_MAX / 1000000);
        } else if (opt == "--forever") {
            o.forever = true;
        } else if (opt == "--stdin") {
            o.readStdin = true;
        } else if (opt == "--ignore-sigterm") {
            o.ignoreSigterm = true;
        } else if (opt == "--on-sigterm-exit") {
            o.onSigtermExit = int(numberArg("--on-sigterm-exit", value(), 0, 255));
        } else if (opt == "--signal-report") {
            o.signalReport = true;
        } else if (opt == "--grandchild-ignore-sigterm") {
            o.grandchildIgnoreSigterm = true;
        } else {
            usageError("unknown option '" + opt + "'");
        }
    }
    if (o.flood && !haveLines)
        o.actions.push_back({ActionKind::Lines, {}, -1});
}

} // namespace

int main(int argc, char** argv)
{
    const long long start = nowNs();
    parseArguments(argc, argv);
    installSignals();
    for (const Action& action : g_options.actions)
        runAction(action);
    if (g_options.readStdin)
        stdinSession();
    if (g_options.sleepMs >= 0)
        sleepFor(g_options.sleepMs);
    if (g_options.forever)
        waitUntil(-1, false);
    if (g_options.exitAfterMs >= 0)
        waitUntil(start + g_options.exitAfterMs * 1000000LL, false);
    handleSignals();
    return g_exitCode;
}
