// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/mainwindow.h"

#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QFileInfo>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QStatusBar>
#include <QStyle>
#include <QTest>

/// The main window as a person sees it, on the offscreen platform.
class TestMainWindow final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void showsEndpointAndSnippet();
    void copiesSnippet();
    void statusBarCounts();
    void screenshot();
};

void TestMainWindow::showsEndpointAndSnippet()
{
    MainWindow window;
    window.setHostEndpoint(QUrl(QStringLiteral("ws://127.0.0.1:7700/")), QStringLiteral("tok123"),
                           QStringLiteral("/home/u/.config/agentdeck/token"));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto* endpoint = window.findChild<QLabel*>(QStringLiteral("endpointLabel"));
    QVERIFY(endpoint);
    QCOMPARE(endpoint->text(), QStringLiteral("ws://127.0.0.1:7700/"));
    auto* token = window.findChild<QLabel*>(QStringLiteral("tokenLabel"));
    QVERIFY(token->text().contains(QLatin1String("/home/u/.config/agentdeck/token")));
    auto* snippet = window.findChild<QPlainTextEdit*>(QStringLiteral("snippet"));
    QVERIFY(snippet->toPlainText().contains(QLatin1String("ws://127.0.0.1:7700/")));
    QVERIFY(snippet->toPlainText().contains(QLatin1String("\"tok123\"")));
    QVERIFY(snippet->isReadOnly());
}

void TestMainWindow::copiesSnippet()
{
    MainWindow window;
    window.setHostEndpoint(QUrl(QStringLiteral("ws://127.0.0.1:7701/")), QStringLiteral("abc"), QString());
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto* copy = window.findChild<QPushButton*>(QStringLiteral("copySnippet"));
    QVERIFY(copy);
    QTest::mouseClick(copy, Qt::LeftButton);
    QVERIFY(QApplication::clipboard()->text().contains(QLatin1String("ws://127.0.0.1:7701/")));
}

void TestMainWindow::statusBarCounts()
{
    MainWindow window;
    window.setHostStats(3, 1, 12345);
    auto* status = window.findChild<QLabel*>(QStringLiteral("statusLabel"));
    QVERIFY(status->text().contains(QLatin1String("3 agents")));
    QVERIFY(status->text().contains(QLatin1String("12345 lines")));
}

void TestMainWindow::screenshot()
{
    for (const bool dark : {false, true}) {
        QPalette palette = QApplication::style()->standardPalette();
        if (dark) {
            palette.setColor(QPalette::Window, QColor(0x2b, 0x2b, 0x2b));
            palette.setColor(QPalette::WindowText, QColor(0xe6, 0xe6, 0xe6));
            palette.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
            palette.setColor(QPalette::Text, QColor(0xe6, 0xe6, 0xe6));
            palette.setColor(QPalette::Button, QColor(0x3a, 0x3a, 0x3a));
            palette.setColor(QPalette::ButtonText, QColor(0xe6, 0xe6, 0xe6));
        }
        QApplication::setPalette(palette);
        MainWindow window;
        window.setHostEndpoint(QUrl(QStringLiteral("ws://127.0.0.1:7700/")), QStringLiteral("Zx8…"),
                               QStringLiteral("/home/you/.config/agentdeck/token"));
        window.setHostStats(2, 1, 48213);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        const QString path = QStringLiteral(AGENTDECK_BINARY_DIR "/screenshots/mainwindow-%1.png")
                                 .arg(dark ? QStringLiteral("dark") : QStringLiteral("light"));
        QDir().mkpath(QFileInfo(path).absolutePath());
        QVERIFY(window.grab().save(path));
    }
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
