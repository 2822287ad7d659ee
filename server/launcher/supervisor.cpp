// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/launcher/supervisor.h"

#include "server/launcher/processmetrics.h"
#include "server/protocol/protocol.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QProcess>
#include <QTimer>
#include <csignal>
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

using Protocol::Stream;

namespace {

using Protocol::nowMs;

constexpr qsizetype ReadChunk = 256 * 1024;
constexpr int PipeBytes = 1 << 20;

qint64 monotonicMs()
{
    static QElapsedTimer clock = [] {
        QElapsedTimer t;
        t.start();
        return t;
    }();
    return clock.elapsed();
}

QByteArray seconds(qint64 ms)
{
    return QByteArray::number(double(ms) / 1000.0, 'f', ms % 1000 == 0 ? 0 : 1) + " s";
}

/// Runs in the child between fork and exec: only async-signal-safe calls.
void prepareChild()
{
    ::setpgid(0, 0);
    // Die with the host even if it is killed without a chance to stop its children.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The host ignores SIGPIPE; a child should get the default.
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Larger pipes let a chatty child write more before it waits for the host.
    ::fcntl(STDOUT_FILENO, F_SETPIPE_SZ, PipeBytes);
    ::fcntl(STDERR_FILENO, F_SETPIPE_SZ, PipeBytes);
}

} // namespace

ProcessSupervisor::ProcessSupervisor(const AgentDefinition& definition, Listener* listener, QObject* parent)
    : QObject(parent)
    , m_definition(definition)
    , m_listener(listener)
    , m_startTimer(new QTimer(this))
    , m_backoffTimer(new QTimer(this))
    , m_stopTimer(new QTimer(this))
{
    for (QTimer* timer : {m_startTimer, m_backoffTimer, m_stopTimer})
        timer->setSingleShot(true);
    connect(m_backoffTimer, &QTimer::timeout, this, [this] {
        m_nextStartAt = 0;
        spawn();
    });
    connect(m_stopTimer, &QTimer::timeout, this, &ProcessSupervisor::onStopTimeout);
    m_readBuffer.resize(ReadChunk);
}

ProcessSupervisor::~ProcessSupervisor()
{
    if (!m_process)
        return;
    // Quietly: the listener may be going away too.
    m_process->disconnect(this);
    signalGroup(SIGKILL);
    m_process->waitForFinished(2000);
    delete m_process;
}

QByteArrayView ProcessSupervisor::stateName(State state)
{
    switch (state) {
    case State::Stopped:
        return "STOPPED";
    case State::Starting:
        return "STARTING";
    case State::Running:
        return "RUNNING";
    case State::Backoff:
        return "BACKOFF";
    case State::Stopping:
        return "STOPPING";
    case State::Exited:
        return "EXITED";
    case State::Fatal:
        return "FATAL";
    }
    return "STOPPED";
}

QByteArrayView ProcessSupervisor::protocolState() const
{
    switch (m_state) {
    case State::Starting:
        return "starting";
    case State::Running:
        return "running";
    case State::Stopping:
        return "stopping";
    case State::Backoff:
        return "crashed";
    case State::Fatal:
        return "error";
    case State::Exited:
        return m_exitSignal == 0 && m_definition.isExpectedExit(m_exitCode) ? "stopped" : "crashed";
    case State::Stopped:
        break;
    }
    return "stopped";
}

void ProcessSupervisor::setDefinition(const AgentDefinition& definition)
{
    if (m_process) {
        m_pendingDefinition = definition;
        m_hasPendingDefinition = true;
    } else {
        m_definition = definition;
        m_hasPendingDefinition = false;
    }
}

void ProcessSupervisor::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    m_listener->processStateChanged(this);
}

void ProcessSupervisor::reportEvent(LogLevel level, const QByteArray& text)
{
    m_listener->processEvent(this, level, text);
}

void ProcessSupervisor::resolve(std::vector<Done>* waiters, bool ok, const QByteArray& text)
{
    std::vector<Done> pending;
    pending.swap(*waiters);
    for (const Done& done : pending) {
        if (done)
            done(ok, text);
    }
}

// ---------------------------------------------------------------------------
// Control

void ProcessSupervisor::start(Done done)
{
    switch (m_state) {
    case State::Running:
        if (done)
            done(false, "already running (pid " + QByteArray::number(m_pid) + ')');
        return;
    case State::Starting:
        m_startWaiters.push_back(std::move(done));
        return;
    case State::Stopping:
        // Starts again once the current run has ended.
        m_restartAfterStop = true;
        m_startWaiters.push_back(std::move(done));
        return;
    case State::Backoff:
        m_backoffTimer->stop();
        m_nextStartAt = 0;
        break;
    case State::Stopped:
    case State::Exited:
    case State::Fatal:
        m_backoffAttempt = 0;
        break;
    }
    m_failedStarts = 0;
    m_startWaiters.push_back(std::move(done));
    spawn();
}

void ProcessSupervisor::stop(Done done)
{
    switch (m_state) {
    case State::Starting:
    case State::Running: {
        m_stopRequested = true;
        m_stopWaiters.push_back(std::move(done));
        setState(State::Stopping);
        const QByteArray signal = signalName(m_definition.stopsignal);
        reportEvent(LogLevel::Info,
                    "stopping: " + signal
                        + (m_definition.stopasgroup ? QByteArray(" to the process group")
                                                    : QByteArray(" to pid ") + QByteArray::number(m_pid))
                        + ", SIGKILL after " + QByteArray::number(m_definition.stopwaitsecs) + " s");
        if (m_definition.stopasgroup)
            signalGroup(m_definition.stopsignal);
        else if (m_pid > 0)
            ::kill(pid_t(m_pid), m_definition.stopsignal);
        m_stopTimer->start(m_definition.stopwaitsecs * 1000);
        return;
    }
    case State::Stopping:
        m_restartAfterStop = false;
        m_stopWaiters.push_back(std::move(done));
        return;
    case State::Backoff:
        m_backoffTimer->stop();
        m_nextStartAt = 0;
        setState(State::Stopped);
        reportEvent(LogLevel::Info, "stopped while waiting to restart");
        if (done)
            done(true, "stopped (it was waiting to restart)");
        return;
    case State::Stopped:
    case State::Exited:
    case State::Fatal:
        break;
    }
    if (done)
        done(false, "not running");
}

void ProcessSupervisor::restart(Done done)
{
    if (!m_process) {
        start(std::move(done));
        return;
    }
    m_startWaiters.push_back(std::move(done));
    if (m_state != State::Stopping)
        stop();
    m_restartAfterStop = true;
}

void ProcessSupervisor::kill(Done done)
{
    if (!m_process) {
        if (m_state == State::Backoff) {
            stop(std::move(done));
            return;
        }
        if (done)
            done(false, "not running");
        return;
    }
    m_stopRequested = true;
    m_killRequested = true;
    m_restartAfterStop = false;
    m_stopWaiters.push_back(std::move(done));
    setState(State::Stopping);
    reportEvent(LogLevel::Warning, "killing the process group (SIGKILL)");
    signalGroup(SIGKILL);
}

bool ProcessSupervisor::sendSignal(int signal, QByteArray* text)
{
    if (!m_process || m_pid <= 0) {
        *text = "not running";
        return false;
    }
    if (::kill(pid_t(m_pid), signal) != 0) {
        *text = "could not send " + signalName(signal) + ": " + QByteArray(strerror(errno));
        return false;
    }
    *text = "sent " + signalName(signal) + " to pid " + QByteArray::number(m_pid);
    return true;
}

bool ProcessSupervisor::writeStdin(QByteArrayView text, QByteArray* message)
{
    if (!m_process || m_state == State::Stopping) {
        *message = "not running";
        return false;
    }
    // A child that does not read its stdin must not make the host buffer without end.
    constexpr qint64 MaxPendingStdin = 1024 * 1024;
    if (m_process->bytesToWrite() > MaxPendingStdin) {
        *message = "the process is not reading its stdin (" + QByteArray::number(m_process->bytesToWrite())
            + " bytes still waiting)";
        return false;
    }
    QByteArray data = text.toByteArray();
    data.append('\n');
    if (m_process->write(data) != data.size()) {
        *message = "could not write to stdin: " + m_process->errorString().toUtf8();
        return false;
    }
    *message = "wrote " + QByteArray::number(data.size()) + " bytes to stdin";
    return true;
}

void ProcessSupervisor::beginShutdown()
{
    m_shutDown = true;
    m_backoffTimer->stop();
    m_startTimer->stop();
    m_restartAfterStop = false;
    m_nextStartAt = 0;
    if (!m_process) {
        if (m_state == State::Backoff)
            setState(State::Stopped);
        return;
    }
    m_stopRequested = true;
    setState(State::Stopping);
    reportEvent(LogLevel::Info, "stopping with the host: " + signalName(m_definition.stopsignal));
    if (m_definition.stopasgroup)
        signalGroup(m_definition.stopsignal);
    else if (m_pid > 0)
        ::kill(pid_t(m_pid), m_definition.stopsignal);
}

void ProcessSupervisor::finishShutdown(qint64 deadlineMs)
{
    if (m_process) {
        if (m_definition.stopwaitsecs > 0)
            reportEvent(LogLevel::Info, "waiting for the process to end");
        const qint64 wait = std::max<qint64>(0, deadlineMs - nowMs());
        if (!m_process->waitForFinished(int(std::min<qint64>(wait, m_definition.stopwaitsecs * 1000ll))) && m_process) {
            m_killRequested = true;
            reportEvent(LogLevel::Warning, "still running at the host's exit: sending SIGKILL to the process group");
            signalGroup(SIGKILL);
            if (m_process)
                m_process->waitForFinished(2000);
        }
    }
}

// ---------------------------------------------------------------------------
// Runs

void ProcessSupervisor::spawn()
{
    if (m_shutDown) {
        resolve(&m_startWaiters, false, "the host is shutting down");
        return;
    }
    if (m_hasPendingDefinition) {
        m_definition = m_pendingDefinition;
        m_hasPendingDefinition = false;
    }
    ++m_run;
    if (++m_spawns > 1)
        ++m_restarts;
    m_stopRequested = false;
    m_killRequested = false;
    m_restartAfterStop = false;
    m_pid = 0;
    m_pgid = 0;
    for (int s = 0; s < 2; ++s) {
        m_splitters[s] = std::make_unique<OutputSplitter>(m_maxLineBytes);
        m_partialShown[s].clear();
    }

    auto* process = new QProcess(this);
    m_process = process;
    process->setProgram(m_definition.command);
    process->setArguments(m_definition.args);
    if (!m_definition.cwd.isEmpty())
        process->setWorkingDirectory(m_definition.cwd);
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(m_extraEnvironment);
    for (const auto& [key, value] : m_definition.env)
        environment.insert(key, value);
    process->setProcessEnvironment(environment);
    process->setChildProcessModifier(prepareChild);

    connect(process, &QProcess::started, this, &ProcessSupervisor::onStarted);
    connect(process, &QProcess::readyReadStandardOutput, this, [this] { readOutput(Stream::Stdout); });
    connect(process, &QProcess::readyReadStandardError, this, [this] { readOutput(Stream::Stderr); });
    connect(process, &QProcess::finished, this,
            [this](int code, QProcess::ExitStatus status) { onFinished(code, status == QProcess::CrashExit); });
    connect(process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError error) {
        if (error == QProcess::FailedToStart)
            onFailedToStart();
    });

    m_startedAt = nowMs();
    m_spawnedMonotonic = monotonicMs();
    setState(State::Starting);
    process->start(QIODevice::ReadWrite);
    if (m_process == process && process->processId() > 0) {
        // Also from this side, so that a stop right away reaches the new group.
        m_pid = process->processId();
        ::setpgid(pid_t(m_pid), pid_t(m_pid));
        m_pgid = m_pid;
    }
}

void ProcessSupervisor::onStarted()
{
    m_pid = m_process->processId();
    m_pgid = m_pid;
    QByteArray commandLine = m_definition.command.toUtf8();
    for (const QString& arg : m_definition.args)
        commandLine += ' ' + (arg.contains(QLatin1Char(' ')) ? '\'' + arg.toUtf8() + '\'' : arg.toUtf8());
    reportEvent(LogLevel::Info,
                "started `" + commandLine + "` (pid " + QByteArray::number(m_pid) + ", run "
                    + QByteArray::number(m_spawns) + ')');
    m_listener->processStateChanged(this);
    const quint64 run = m_run;
    m_startTimer->disconnect();
    connect(m_startTimer, &QTimer::timeout, this, [this, run] { onStartSecsElapsed(run); });
    if (m_definition.startsecs == 0)
        onStartSecsElapsed(run);
    else
        m_startTimer->start(m_definition.startsecs * 1000);
}

void ProcessSupervisor::onStartSecsElapsed(quint64 run)
{
    if (run != m_run || m_state != State::Starting || !m_process)
        return;
    m_failedStarts = 0;
    setState(State::Running);
    resolve(&m_startWaiters, true, "running (pid " + QByteArray::number(m_pid) + ')');
}

void ProcessSupervisor::onFailedToStart()
{
    if (!m_process)
        return;
    const QByteArray why = m_process->errorString().toUtf8();
    releaseProcess();
    m_pgid = 0;
    reportEvent(LogLevel::Error, "could not start `" + m_definition.command.toUtf8() + "`: " + why);
    if (m_stopRequested) {
        setState(State::Stopped);
        resolve(&m_stopWaiters, true, "stopped");
        resolve(&m_startWaiters, false, "could not start: " + why);
        return;
    }
    afterFailedStart("could not start: " + why);
}

void ProcessSupervisor::onFinished(int exitCode, bool crashed)
{
    if (!m_process)
        return;
    m_stopTimer->stop();
    m_startTimer->stop();
    flushOutput();
    const qint64 ranMs = monotonicMs() - m_spawnedMonotonic;
    m_hasExit = true;
    m_exitCode = crashed ? 0 : exitCode;
    m_exitSignal = crashed ? exitCode : 0;
    const QByteArray how = crashed ? QByteArray("killed by ") + signalName(exitCode)
                                   : QByteArray("exited with code ") + QByteArray::number(exitCode);
    const bool wasStarting = m_state == State::Starting;
    releaseProcess();
    killLeftovers();
    m_pgid = 0;

    if (m_stopRequested) {
        reportEvent(LogLevel::Info, "stopped: " + how);
        const bool again = m_restartAfterStop;
        setState(State::Stopped);
        resolve(&m_stopWaiters, true, (m_killRequested ? "killed: " : "stopped: ") + how);
        if (again) {
            m_failedStarts = 0;
            spawn();
        } else {
            resolve(&m_startWaiters, false, "stopped before it was running");
        }
        return;
    }
    if (ranMs >= m_definition.backoffResetMs)
        m_backoffAttempt = 0;
    if (wasStarting) {
        reportEvent(LogLevel::Error,
                    how + " after " + seconds(ranMs) + ", within startsecs ("
                        + QByteArray::number(m_definition.startsecs) + " s)");
        afterFailedStart(how + " during startup");
        return;
    }
    const bool expected = !crashed && m_definition.isExpectedExit(exitCode);
    reportEvent(expected ? LogLevel::Info : LogLevel::Error, how + (expected ? " (expected)" : " (unexpected)"));
    setState(State::Exited);
    const bool again = m_definition.autorestart == AgentDefinition::Restart::Always
        || (m_definition.autorestart == AgentDefinition::Restart::Unexpected && !expected);
    if (again)
        scheduleRestart();
}

void ProcessSupervisor::afterFailedStart(const QByteArray& how)
{
    ++m_failedStarts;
    const bool giveUp = m_definition.startretries >= 0 && m_failedStarts > m_definition.startretries;
    if (giveUp) {
        setState(State::Fatal);
        reportEvent(LogLevel::Critical,
                    "FATAL: gave up after " + QByteArray::number(m_failedStarts) + " failed start"
                        + (m_failedStarts == 1 ? "" : "s") + " (startretries "
                        + QByteArray::number(m_definition.startretries) + "); start it again by hand");
        resolve(&m_startWaiters, false, how + "; gave up (FATAL)");
        return;
    }
    scheduleRestart();
    resolve(&m_startWaiters, false, how + "; retrying in " + seconds(m_nextStartAt - nowMs()));
}

void ProcessSupervisor::scheduleRestart()
{
    const int delay = m_definition.backoffDelayMs(++m_backoffAttempt);
    m_nextStartAt = nowMs() + delay;
    setState(State::Backoff);
    reportEvent(LogLevel::Warning,
                "restarting in " + seconds(delay) + " (attempt " + QByteArray::number(m_backoffAttempt) + ')');
    m_backoffTimer->start(delay);
}

void ProcessSupervisor::onStopTimeout()
{
    if (!m_process)
        return;
    reportEvent(LogLevel::Warning,
                "still running " + QByteArray::number(m_definition.stopwaitsecs)
                    + " s after the stop signal: sending SIGKILL to the process group");
    m_killRequested = true;
    signalGroup(SIGKILL);
}

void ProcessSupervisor::signalGroup(int signal)
{
    // Never a pid of 0 or below: that would reach the host's own group, or everyone.
    if (m_pgid > 0)
        ::kill(-pid_t(m_pgid), signal);
    else if (m_process && m_process->processId() > 0)
        ::kill(pid_t(m_process->processId()), signal);
}

void ProcessSupervisor::killLeftovers()
{
    if (m_pgid <= 0)
        return;
    const QList<qint64> left = ProcessGroupSampler::processesInGroup(m_pgid);
    if (!left.isEmpty()) {
        ::kill(-pid_t(m_pgid), SIGKILL);
        reportEvent(LogLevel::Warning,
                    "killed " + QByteArray::number(left.size()) + " leftover process" + (left.size() == 1 ? "" : "es")
                        + " of the group");
    }
}

void ProcessSupervisor::releaseProcess()
{
    if (!m_process)
        return;
    QProcess* process = m_process;
    m_process = nullptr;
    m_pid = 0;
    m_startedAt = 0;
    process->disconnect(this);
    process->deleteLater();
}

// ---------------------------------------------------------------------------
// Output

void ProcessSupervisor::readOutput(Stream stream)
{
    if (!m_process)
        return;
    const int s = int(stream);
    m_process->setReadChannel(stream == Stream::Stdout ? QProcess::StandardOutput : QProcess::StandardError);
    const qint64 ts = nowMs();
    OutputSplitter& splitter = *m_splitters[s];
    while (true) {
        const qint64 n = m_process->read(m_readBuffer.data(), m_readBuffer.size());
        if (n <= 0)
            break;
        splitter.feed(QByteArrayView(m_readBuffer.constData(), n),
                      [&](QByteArrayView line) { m_listener->processLine(this, stream, ts, line); });
    }
    const QByteArrayView partial = splitter.partial();
    if (partial != QByteArrayView(m_partialShown[s])) {
        m_partialShown[s] = partial.toByteArray();
        m_listener->processPartial(this, stream, ts, partial);
    }
    m_listener->processOutputDone(this);
}

void ProcessSupervisor::flushOutput()
{
    readOutput(Stream::Stdout);
    readOutput(Stream::Stderr);
    const qint64 ts = nowMs();
    for (int s = 0; s < 2; ++s) {
        const Stream stream = Stream(s);
        m_splitters[s]->finish([&](QByteArrayView line) { m_listener->processLine(this, stream, ts, line); });
        if (!m_partialShown[s].isEmpty()) {
            m_partialShown[s].clear();
            m_listener->processPartial(this, stream, ts, {});
        }
    }
    m_listener->processOutputDone(this);
}
