// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "models/alertrule.h"

#include <QDialog>

class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QSpinBox;

/*
 * Alert Rules: the rules in a list (the check box enables one) and the
 * selected rule's fields beside it. A regular expression is checked as it is
 * typed, with the position of its error; one that Hyperscan cannot take is
 * said to be matched on its own, more slowly. OK takes the rules when every
 * one of them is valid.
 */
class AlertRulesDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AlertRulesDialog)

public:
    explicit AlertRulesDialog(const QList<AlertRule>& rules, QWidget* parent = nullptr);

    QList<AlertRule> rules() const { return m_rules; }

private:
    void showRule(int index);
    /// Takes the fields into the selected rule and checks it.
    void takeFields();
    void updateVisibility();
    void validateAll();
    void addRule();
    void removeRule();
    void updateItem(int index);

    QList<AlertRule> m_rules;
    bool m_loading = false;
    QListWidget* m_list = nullptr;
    QPushButton* m_remove = nullptr;
    QWidget* m_editor = nullptr;
    QFormLayout* m_form = nullptr;
    QLineEdit* m_name = nullptr;
    QComboBox* m_kind = nullptr;
    QLineEdit* m_pattern = nullptr;
    QLabel* m_patternNote = nullptr;
    QComboBox* m_level = nullptr;
    QLineEdit* m_agents = nullptr;
    QSpinBox* m_seconds = nullptr;
    QComboBox* m_metric = nullptr;
    QDoubleSpinBox* m_threshold = nullptr;
    QLabel* m_error = nullptr;
    QPushButton* m_ok = nullptr;
};
