// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDialog>
#include <QTimer>
#include <QUrl>
#include <functional>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QNetworkAccessManager;
class QNetworkReply;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

/// A remote host the window connects to, as the user entered it.
struct HostEntry
{
    QUrl url;
    QString token;
    QString tokenFile; // read at every connection instead of token, when set
    QString pinnedSha256; // hex; empty: verify against the system's (and caFile's) roots
    QString caFile; // extra trusted certificates (PEM); may be empty
};

/// Connect to a remote host: its address, token and how to trust its certificate.
class ConnectHostDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectHostDialog)

public:
    explicit ConnectHostDialog(QWidget* parent = nullptr);

    HostEntry entry() const;
    /// Fills the fields; editing, the dialog is titled for a known host.
    void setEntry(const HostEntry& entry, bool editing = false);
    void accept() override;

private:
    void updateTls();

    QLineEdit* m_url = nullptr;
    QLineEdit* m_token = nullptr;
    QLineEdit* m_tokenFile = nullptr;
    QLineEdit* m_pin = nullptr;
    QLineEdit* m_caFile = nullptr;
    QWidget* m_tlsBox = nullptr;
    QLabel* m_error = nullptr;
};

/// Add or edit an agent the host launches: command, directory, environment, restart policy.
class AgentDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AgentDialog)

public:
    explicit AgentDialog(QWidget* parent = nullptr);

    /// Fills the fields from a definition as the host describes it (JSON); the id cannot change.
    void setDefinition(const QByteArray& json);
    /// The definition as JSON, checked by accept().
    QByteArray definition() const;
    QString agentId() const;
    void accept() override;

private:
    QLineEdit* m_id = nullptr;
    QLineEdit* m_name = nullptr;
    QLineEdit* m_command = nullptr;
    QLineEdit* m_args = nullptr;
    QLineEdit* m_cwd = nullptr;
    QPlainTextEdit* m_env = nullptr;
    QComboBox* m_restart = nullptr;
    QCheckBox* m_autostart = nullptr;
    QLabel* m_error = nullptr;
    QByteArray m_original; // keys the dialog does not show are kept
};

/// How a bot connects to the embedded host: its address, token and a Python example.
class ConnectBotDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectBotDialog)

public:
    ConnectBotDialog(const QUrl& url, const QString& token, const QString& tokenPath, QWidget* parent = nullptr);

    static QString pythonSnippet(const QUrl& url, const QString& token);
};

/// Follow a Log File…: an agent of the embedded host whose console is a file some bot writes.
class FollowFileDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FollowFileDialog)

public:
    /// takenIds: the agents the host already has; a new agent cannot take their ids.
    explicit FollowFileDialog(const QStringList& takenIds, QWidget* parent = nullptr);

    QString agentId() const;
    /// The definition for define_agent: {"id", "name", "follow": {"path", "format", "history_lines"}}.
    QByteArray definition() const;
    void accept() override;

private:
    /// Whether the file is there and readable; a missing one is told, with the choice to wait for it.
    void checkPath();

    QStringList m_taken;
    QLineEdit* m_id = nullptr;
    QLineEdit* m_name = nullptr;
    QLineEdit* m_path = nullptr;
    QComboBox* m_format = nullptr;
    QLabel* m_formatHint = nullptr;
    QSpinBox* m_history = nullptr;
    QLabel* m_missing = nullptr;
    QCheckBox* m_waitForFile = nullptr;
    QLabel* m_error = nullptr;
};

/// A BettaFish server to bridge, as the user entered it.
struct BettaFishEntry
{
    QString url;
    QString prefix;
    QString logsDir; // empty: read over the network only
};

/*
 * Add BettaFish…: a BettaFish server whose four apps become agents of the
 * embedded host. The address is checked as it is typed (GET /api/status must
 * name the apps); OK stays disabled until it answers.
 */
class BettaFishDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BettaFishDialog)

public:
    /// Adds the bridge to the host; false with the reason when the host refuses it.
    using AddBridge = std::function<bool(const BettaFishEntry& entry, QString* error)>;

    /// takenIds: the agents the host already has; add: called when OK is pressed.
    BettaFishDialog(const QStringList& takenIds, AddBridge add, QWidget* parent = nullptr);
    ~BettaFishDialog() override;

    BettaFishEntry entry() const;
    /// Whether the address last checked answered as a BettaFish server.
    bool isReachable() const { return m_state == State::Reachable; }
    void accept() override;

    static constexpr int CheckTimeoutMs = 5000;

Q_SIGNALS:
    /// A check of the address ended (reachable or not).
    void checked(bool reachable);

private:
    enum class State { Idle, Checking, Reachable, Failed };
    void startCheck();
    void onReplyFinished(QNetworkReply* reply);
    void setState(State state, const QString& text);
    QString entryProblem() const;

    QStringList m_taken;
    AddBridge m_add;
    QLineEdit* m_url = nullptr;
    QLineEdit* m_prefix = nullptr;
    QLineEdit* m_logs = nullptr;
    QLabel* m_status = nullptr;
    QLabel* m_error = nullptr;
    QPushButton* m_ok = nullptr;
    QNetworkAccessManager* m_http = nullptr;
    QNetworkReply* m_reply = nullptr;
    QTimer m_debounce;
    State m_state = State::Idle;
};
