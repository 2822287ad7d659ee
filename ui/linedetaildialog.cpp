// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/linedetaildialog.h"

#include "models/consolefiltermodel.h"
#include "models/consolemodel.h"
#include "server/protocol/protocol.h"
#include "ui/ansi.h"

#include <QApplication>
#include <QClipboard>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

LineDetailDialog::LineDetailDialog(const QModelIndex& index, QWidget* parent)
    : QDialog(parent)
{
    setObjectName(QStringLiteral("lineDetail"));
    setWindowTitle(tr("Console Line"));
    setAttribute(Qt::WA_DeleteOnClose);
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    QStringList all;
    const auto addField = [&](const QString& name, const QString& value) {
        if (value.isEmpty())
            return;
        auto* label = new QLabel(value, this);
        label->setTextInteractionFlags(Qt::TextSelectableByMouse);
        label->setTextFormat(Qt::PlainText);
        form->addRow(name + QLatin1Char(':'), label);
        all.append(name + QStringLiteral(": ") + value);
    };
    const qint64 ts = index.data(ConsoleModel::TimeRole).toLongLong();
    addField(tr("Time"),
             ts > 0 ? QDateTime::fromMSecsSinceEpoch(ts).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"))
                    : QString());
    addField(tr("Level"), index.data(ConsoleModel::LevelNameRole).toString());
    addField(tr("Stream"),
             index.data(ConsoleModel::StreamRole).toInt() == int(Protocol::Stream::Stderr) ? QStringLiteral("stderr")
                                                                                           : QStringLiteral("stdout"));
    addField(tr("Agent"), index.data(ConsoleModel::AgentRole).toString());
    addField(tr("Source"), index.data(ConsoleModel::SourceRole).toString());
    const qint64 seq = index.data(ConsoleModel::SeqRole).toLongLong();
    addField(tr("Number"), seq > 0 ? QString::number(seq) : QString());
    // The first line of a record (a traceback under its log line) stands for all of it.
    const auto rest = index.data(ConsoleFilterModel::RecordRowsRole).value<QModelIndexList>();
    if (!rest.isEmpty()) {
        setWindowTitle(tr("Console Record"));
        addField(tr("Lines"), QString::number(rest.size() + 1));
    }
    layout->addLayout(form);

    QString text = Ansi::strip(index.data(ConsoleModel::TextRole).toString());
    for (const QModelIndex& line : rest)
        text += QLatin1Char('\n') + Ansi::strip(line.data(ConsoleModel::TextRole).toString());
    m_text = new QPlainTextEdit(text, this);
    m_text->setObjectName(QStringLiteral("lineText"));
    m_text->setReadOnly(true);
    m_text->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    m_text->setWordWrapMode(QTextOption::WrapAtWordBoundaryOrAnywhere);
    m_text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    layout->addWidget(m_text, 1);
    all.append(text);
    m_all = all.join(QLatin1Char('\n'));

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    QPushButton* copyText = buttons->addButton(tr("Copy Text"), QDialogButtonBox::ActionRole);
    copyText->setObjectName(QStringLiteral("copyText"));
    connect(copyText, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(this->text()); });
    QPushButton* copyAll = buttons->addButton(tr("Copy All"), QDialogButtonBox::ActionRole);
    copyAll->setObjectName(QStringLiteral("copyAll"));
    connect(copyAll, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(m_all); });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    resize(fontMetrics().averageCharWidth() * 100, fontMetrics().height() * 24);
}

QString LineDetailDialog::text() const
{
    return m_text->toPlainText();
}
