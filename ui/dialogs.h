// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDialog>
#include <QUrl>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;

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
