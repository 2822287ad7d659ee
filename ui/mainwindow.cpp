// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/mainwindow.h"

#include <QApplication>
#include <QClipboard>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QStatusBar>
#include <QVBoxLayout>

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent)
{
    setWindowTitle(QStringLiteral("AgentDeck"));
    setObjectName(QStringLiteral("mainWindow"));

    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(24, 20, 24, 20);
    layout->setSpacing(12);

    auto* title = new QLabel(tr("Embedded host"), central);
    QFont titleFont = title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.4);
    titleFont.setBold(true);
    title->setFont(titleFont);
    layout->addWidget(title);

    auto* form = new QFormLayout;
    form->setLabelAlignment(Qt::AlignRight);
    m_endpointLabel = new QLabel(tr("starting…"), central);
    m_endpointLabel->setObjectName(QStringLiteral("endpointLabel"));
    m_endpointLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_tokenLabel = new QLabel(central);
    m_tokenLabel->setObjectName(QStringLiteral("tokenLabel"));
    m_tokenLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(tr("Listening on:"), m_endpointLabel);
    form->addRow(tr("Token:"), m_tokenLabel);
    layout->addLayout(form);

    layout->addWidget(new QLabel(tr("Connect a bot (Python, with the websockets package):"), central));
    m_snippet = new QPlainTextEdit(central);
    m_snippet->setObjectName(QStringLiteral("snippet"));
    m_snippet->setReadOnly(true);
    m_snippet->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    layout->addWidget(m_snippet, 1);

    auto* buttons = new QHBoxLayout;
    buttons->addStretch();
    auto* copy = new QPushButton(tr("Copy snippet"), central);
    copy->setObjectName(QStringLiteral("copySnippet"));
    connect(copy, &QPushButton::clicked, this,
            [this] { QApplication::clipboard()->setText(m_snippet->toPlainText()); });
    buttons->addWidget(copy);
    layout->addLayout(buttons);

    setCentralWidget(central);
    m_statusLabel = new QLabel(central);
    m_statusLabel->setObjectName(QStringLiteral("statusLabel"));
    statusBar()->addPermanentWidget(m_statusLabel);
    resize(760, 520);
}

void MainWindow::setHostEndpoint(const QUrl& url, const QString& token, const QString& tokenPath)
{
    m_endpointLabel->setText(url.toString());
    m_tokenLabel->setText(tokenPath.isEmpty() ? tr("as configured") : tr("kept in %1").arg(tokenPath));
    const QString snippet =
        QStringLiteral(
            "import asyncio, json, websockets\n"
            "\n"
            "async def main():\n"
            "    async with websockets.connect(\"%1\") as ws:\n"
            "        await ws.send(json.dumps({\"type\": \"hello\", \"protocol\": 1, \"role\": \"agent\",\n"
            "                                  \"token\": \"%2\",\n"
            "                                  \"agent\": {\"id\": \"my-bot\", \"name\": \"My Bot\"}}))\n"
            "        print(await ws.recv())  # welcome\n"
            "        await ws.send(json.dumps({\"type\": \"log\", \"lines\": [{\"text\": \"hello from my bot\"}]}))\n"
            "        await asyncio.sleep(1)\n"
            "\n"
            "asyncio.run(main())\n")
            .arg(url.toString(), token);
    m_snippet->setPlainText(snippet);
}

void MainWindow::setHostStats(int agents, int viewers, quint64 linesIngested)
{
    const QString agentText = agents == 1 ? tr("1 agent") : tr("%1 agents").arg(agents);
    const QString viewerText = viewers == 1 ? tr("1 viewer") : tr("%1 viewers").arg(viewers);
    m_statusLabel->setText(tr("%1 · %2 · %3 lines received").arg(agentText, viewerText).arg(linesIngested));
}
