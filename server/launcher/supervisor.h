// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/launcher/outputsplitter.h"
#include "server/protocol/agentdefinition.h"
#include "server/protocol/loglevel.h"
#include "server/protocol/protocol.h"

#include <QObject>
#include <QProcessEnvironment>
#include <functional>
#include <memory>
#include <vector>

class QProcess;
class QTimer;

/*
 * Launches and supervises one local agent, the way Supervisor does: each run in
 * its own process group, states STOPPED, STARTING, RUNNING, BACKOFF, STOPPING,
 * EXITED and FATAL, restarts by policy with an exponential backoff, a stop that
 * escalates to SIGKILL for the whole group. Output is split into lines per
 * stream and handed to a Listener, which also gets the supervisor's own events
 * as lines for the agent's console.
 */
class ProcessSupervisor final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProcessSupervisor)

public:
    enum class State { Stopped, Starting, Running, Backoff, Stopping, Exited, Fatal };

    class Listener
    {
    public:
        virtual ~Listener() = default;
        /// A complete line of output: valid UTF-8, no newline, cut to the maximum length.
        virtual void processLine(ProcessSupervisor* supervisor, Protocol::Stream stream, qint64 ts,
                                 QByteArrayView text) = 0;
        /// The unfinished last line of a stream changed; empty text when there is none any more.
        virtual void processPartial(ProcessSupervisor* supervisor, Protocol::Stream stream, qint64 ts,
                                    QByteArrayView text) = 0;
        /// Called after each batch of lines.
        virtual void processOutputDone(ProcessSupervisor* supervisor) = 0;
        /// Something the supervisor did or saw (spawned, exited, backing off...), for the console.
        virtual void processEvent(ProcessSupervisor* supervisor, LogLevel level, const QByteArray& text) = 0;
        virtual void processStateChanged(ProcessSupervisor* supervisor) = 0;
    };
    /// Receives the outcome of a control request: ok and a sentence for the user.
    using Done = std::function<void(bool ok, const QByteArray& text)>;

    ProcessSupervisor(const AgentDefinition& definition, Listener* listener, QObject* parent = nullptr);
    /// Kills the process group at once if a process is still running.
    ~ProcessSupervisor() override;

    const AgentDefinition& definition() const { return m_definition; }
    /// Takes effect at the next start.
    void setDefinition(const AgentDefinition& definition);
    /// Variables every run gets besides the definition's own (AGENTDECK_URL, ...).
    void setExtraEnvironment(const QProcessEnvironment& environment) { m_extraEnvironment = environment; }
    void setMaxLineBytes(qsizetype bytes) { m_maxLineBytes = bytes; }

    State state() const { return m_state; }
    static QByteArrayView stateName(State state);
    /// The protocol's status state for the current state.
    QByteArrayView protocolState() const;
    bool isAlive() const { return m_process != nullptr; }
    qint64 pid() const { return m_pid; }
    qint64 startedAt() const { return m_startedAt; }
    int restarts() const { return m_restarts; }
    bool hasExited() const { return m_hasExit; }
    int lastExitCode() const { return m_exitCode; }
    /// The signal that ended the last run, 0 when it exited normally.
    int lastExitSignal() const { return m_exitSignal; }
    /// When a BACKOFF ends (ms since the epoch), 0 otherwise.
    qint64 nextStartAt() const { return m_nextStartAt; }

    void start(Done done = {});
    void stop(Done done = {});
    void restart(Done done = {});
    void kill(Done done = {});
    bool sendSignal(int signal, QByteArray* text);
    bool writeStdin(QByteArrayView text, QByteArray* message);

    /// For the host's exit: sends stopsignal now; finishShutdown() waits and kills.
    void beginShutdown();
    /// Waits until deadline (a QDeadlineTimer-style ms since the epoch) for the process, then kills its group.
    void finishShutdown(qint64 deadlineMs);

private:
    void spawn();
    void setState(State state);
    void reportEvent(LogLevel level, const QByteArray& text);
    void onStarted();
    void onStartSecsElapsed(quint64 run);
    void onFinished(int exitCode, bool crashed);
    void onFailedToStart();
    void onStopTimeout();
    void readOutput(Protocol::Stream stream);
    void flushOutput();
    void afterFailedStart(const QByteArray& how);
    void scheduleRestart();
    void signalGroup(int signal);
    void killLeftovers();
    void resolve(std::vector<Done>* waiters, bool ok, const QByteArray& text);
    void releaseProcess();

    AgentDefinition m_definition;
    AgentDefinition m_pendingDefinition;
    bool m_hasPendingDefinition = false;
    Listener* m_listener;
    QProcessEnvironment m_extraEnvironment;
    qsizetype m_maxLineBytes = 65536;

    State m_state = State::Stopped;
    QProcess* m_process = nullptr;
    QTimer* m_startTimer;
    QTimer* m_backoffTimer;
    QTimer* m_stopTimer;
    std::unique_ptr<OutputSplitter> m_splitters[2];
    QByteArray m_partialShown[2];
    QByteArray m_readBuffer;

    quint64 m_run = 0;
    qint64 m_pid = 0;
    qint64 m_pgid = 0;
    qint64 m_startedAt = 0;
    qint64 m_spawnedMonotonic = 0;
    qint64 m_nextStartAt = 0;
    int m_restarts = 0;
    int m_spawns = 0;
    int m_failedStarts = 0;
    int m_backoffAttempt = 0;
    bool m_hasExit = false;
    int m_exitCode = 0;
    int m_exitSignal = 0;
    bool m_stopRequested = false;
    bool m_killRequested = false;
    bool m_restartAfterStop = false;
    bool m_shutDown = false;
    std::vector<Done> m_startWaiters;
    std::vector<Done> m_stopWaiters;
};
