// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QScrollArea>
#include <QStringList>
#include <QTimer>
#include <QWidget>
#include <functional>
#include <map>

class AskModel;
class QLabel;
class QPushButton;
class QVBoxLayout;

/// An open question of an agent, as the views show it.
struct Question
{
    QString hostKey;
    QString agent;
    QString id;
    QString who; // the agent's name, as the window shows it
    QString text;
    QStringList choices;
    qint64 ts = 0; // when it was asked, ms since the epoch
    QString answering; // the choice sent and not yet confirmed; empty: none
    QString readOnlyReason; // why it cannot be answered from here; empty: it can

    /// One key per question: host, agent and id.
    QString key() const { return hostKey + QLatin1Char('\n') + agent + QLatin1Char('\n') + id; }
};

/*
 * One question: who asks and how long ago, the question, and a button per
 * answer. A question new to the card takes clicks only after ArmDelayMs, so a
 * double click meant for the previous question never answers this one; a
 * question being answered shows the choice sent and takes no second answer.
 */
class AskCard final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AskCard)

public:
    static constexpr int ArmDelayMs = 500;

    explicit AskCard(QWidget* parent = nullptr);

    void setQuestion(const Question& question);
    const Question& question() const { return m_question; }
    /// Whether the buttons take clicks now.
    bool isArmed() const { return m_armed; }

    /// "just now", "45 s ago", "3 min ago", "2 h ago", "yesterday 14:02"...
    static QString ago(qint64 ts, qint64 now);

Q_SIGNALS:
    void answered(const Question& question, const QString& choice);

private:
    void updateHeader();
    void updateButtons();

    Question m_question;
    QLabel* m_header = nullptr;
    QLabel* m_text = nullptr;
    QWidget* m_buttonRow = nullptr;
    QList<QPushButton*> m_buttons;
    QTimer m_armTimer;
    QTimer m_ageTimer;
    bool m_armed = false;
};

/*
 * Every open question of every host, oldest first, each as an AskCard:
 * answer any of them, in any order. Cards of questions that stay open are kept
 * as they are when others come and go.
 */
class AskList final : public QScrollArea
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AskList)

public:
    /// describe turns a row of the model into a question (names, answers sent).
    AskList(AskModel* model, std::function<Question(int row)> describe, QWidget* parent = nullptr);

    /// Rebuilds from the model (also after an answer is sent or fails).
    void refresh();
    QList<AskCard*> cards() const;

Q_SIGNALS:
    void answered(const Question& question, const QString& choice);

private:
    AskModel* m_model;
    std::function<Question(int row)> m_describe;
    QWidget* m_content = nullptr;
    QVBoxLayout* m_layout = nullptr;
    QLabel* m_empty = nullptr;
    std::map<QString, AskCard*> m_cards; // by question key
};
