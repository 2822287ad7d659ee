// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/askviews.h"

#include "models/askmodel.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

AskCard::AskCard(QWidget* parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("askCard"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    m_header = new QLabel(this);
    m_header->setObjectName(QStringLiteral("askHeader"));
    m_header->setTextFormat(Qt::PlainText);
    QFont small = m_header->font();
    small.setPointSizeF(small.pointSizeF() * 0.9);
    m_header->setFont(small);
    layout->addWidget(m_header);
    auto* row = new QHBoxLayout;
    row->setSpacing(8);
    m_text = new QLabel(this);
    m_text->setObjectName(QStringLiteral("askText"));
    m_text->setTextFormat(Qt::PlainText);
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont bold = m_text->font();
    bold.setBold(true);
    m_text->setFont(bold);
    row->addWidget(m_text, 1);
    m_buttonRow = new QWidget(this);
    auto* buttons = new QHBoxLayout(m_buttonRow);
    buttons->setContentsMargins(0, 0, 0, 0);
    row->addWidget(m_buttonRow, 0, Qt::AlignTop);
    layout->addLayout(row);

    m_armTimer.setSingleShot(true);
    m_armTimer.setInterval(ArmDelayMs);
    connect(&m_armTimer, &QTimer::timeout, this, [this] {
        m_armed = true;
        updateButtons();
    });
    m_ageTimer.setInterval(10000);
    connect(&m_ageTimer, &QTimer::timeout, this, &AskCard::updateHeader);
    m_ageTimer.start();
}

void AskCard::setQuestion(const Question& question)
{
    Question shown = question;
    if (shown.choices.isEmpty())
        shown.choices = {tr("ok")};
    const bool another = shown.key() != m_question.key();
    const bool newChoices = another || shown.choices != m_question.choices;
    m_question = shown;
    m_text->setText(m_question.text);
    if (newChoices) {
        qDeleteAll(m_buttons);
        m_buttons.clear();
        for (const QString& choice : std::as_const(m_question.choices)) {
            auto* button = new QPushButton(choice, m_buttonRow);
            button->setObjectName(QStringLiteral("answer-") + choice);
            connect(button, &QPushButton::clicked, this, [this, choice] {
                if (m_armed && m_question.answering.isEmpty())
                    Q_EMIT answered(m_question, choice);
            });
            m_buttonRow->layout()->addWidget(button);
            m_buttons.append(button);
        }
    }
    if (another) {
        // A click that was meant for the question shown before lands here in this moment.
        m_armed = false;
        m_armTimer.start();
    }
    updateButtons();
    updateHeader();
}

void AskCard::updateButtons()
{
    for (QPushButton* button : std::as_const(m_buttons)) {
        button->setEnabled(m_armed && m_question.answering.isEmpty() && m_question.readOnlyReason.isEmpty());
        button->setToolTip(m_question.readOnlyReason);
    }
}

void AskCard::updateHeader()
{
    QString header = tr("%1 asks · %2").arg(m_question.who, ago(m_question.ts, QDateTime::currentMSecsSinceEpoch()));
    if (!m_question.answering.isEmpty())
        header += tr(" · answering “%1”…").arg(m_question.answering);
    m_header->setText(header);
    m_header->setToolTip(QDateTime::fromMSecsSinceEpoch(m_question.ts).toString(Qt::ISODate));
}

QString AskCard::ago(qint64 ts, qint64 now)
{
    if (ts <= 0)
        return tr("just now");
    const qint64 seconds = std::max<qint64>(0, (now - ts) / 1000);
    if (seconds < 10)
        return tr("just now");
    if (seconds < 60)
        return tr("%1 s ago").arg(seconds);
    if (seconds < 3600)
        return tr("%1 min ago").arg(seconds / 60);
    if (seconds < 24 * 3600)
        return tr("%1 h ago").arg(seconds / 3600);
    return QDateTime::fromMSecsSinceEpoch(ts).toString(QStringLiteral("yyyy-MM-dd HH:mm"));
}

AskList::AskList(AskModel* model, std::function<Question(int row)> describe, QWidget* parent)
    : QScrollArea(parent)
    , m_model(model)
    , m_describe(std::move(describe))
{
    setObjectName(QStringLiteral("askList"));
    setWidgetResizable(true);
    setFrameShape(QFrame::NoFrame);
    m_content = new QWidget(this);
    m_layout = new QVBoxLayout(m_content);
    m_layout->setContentsMargins(8, 8, 8, 8);
    m_layout->setSpacing(12);
    m_empty = new QLabel(tr("No agent is waiting for an answer."), m_content);
    m_empty->setObjectName(QStringLiteral("askListEmpty"));
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setEnabled(false);
    m_layout->addWidget(m_empty);
    m_layout->addStretch(1);
    setWidget(m_content);
    connect(model, &QAbstractItemModel::rowsInserted, this, &AskList::refresh);
    connect(model, &QAbstractItemModel::rowsRemoved, this, &AskList::refresh);
    connect(model, &QAbstractItemModel::modelReset, this, &AskList::refresh);
    connect(model, &QAbstractItemModel::dataChanged, this, &AskList::refresh);
    refresh();
}

void AskList::refresh()
{
    std::map<QString, AskCard*> kept;
    for (int row = 0; row < m_model->rowCount(); ++row) {
        const Question question = m_describe(row);
        auto it = m_cards.find(question.key());
        AskCard* card = nullptr;
        if (it != m_cards.end()) {
            card = it->second;
            m_cards.erase(it);
        } else {
            card = new AskCard(m_content);
            connect(card, &AskCard::answered, this, &AskList::answered);
        }
        card->setQuestion(question);
        // In the model's order, before the stretch at the end.
        m_layout->insertWidget(row + 1, card);
        kept.emplace(question.key(), card);
    }
    for (auto& [key, card] : m_cards)
        delete card;
    m_cards = std::move(kept);
    m_empty->setVisible(m_cards.empty());
}

QList<AskCard*> AskList::cards() const
{
    QList<AskCard*> list;
    for (int i = 0; i < m_layout->count(); ++i) {
        if (auto* card = qobject_cast<AskCard*>(m_layout->itemAt(i)->widget()))
            list.append(card);
    }
    return list;
}
