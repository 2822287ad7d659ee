// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QMainWindow>
#include <QUrl>

class QLabel;
class QPlainTextEdit;

/// The AgentDeck main window: the embedded host's address and how to connect a bot.
class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    explicit MainWindow(QWidget* parent = nullptr);

    /// Shows where the embedded host listens and how bots authenticate.
    void setHostEndpoint(const QUrl& url, const QString& token, const QString& tokenPath);
    /// Updates the status bar counters.
    void setHostStats(int agents, int viewers, quint64 linesIngested);

private:
    QLabel* m_endpointLabel = nullptr;
    QLabel* m_tokenLabel = nullptr;
    QPlainTextEdit* m_snippet = nullptr;
    QLabel* m_statusLabel = nullptr;
};
