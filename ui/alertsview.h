// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QWidget>

class AlertModel;
class QLabel;
class QPushButton;
class QTreeView;

/*
 * The Alerts list: time, rule, agent, the line and how often it repeated,
 * newest first. Acknowledge one (or all) to clear the badges; double-click a
 * row to open the agent's console at the line.
 */
class AlertsView final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AlertsView)

public:
    explicit AlertsView(AlertModel* model, QWidget* parent = nullptr);

    QTreeView* list() const { return m_list; }

Q_SIGNALS:
    void openRequested(quint64 alertId);
    void rulesRequested();

private:
    void updateButtons();
    void acknowledgeSelected();

    AlertModel* m_model;
    QTreeView* m_list = nullptr;
    QLabel* m_empty = nullptr;
    QPushButton* m_acknowledge = nullptr;
    QPushButton* m_acknowledgeAll = nullptr;
};
