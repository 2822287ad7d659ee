// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDialog>

class QModelIndex;
class QPlainTextEdit;

/*
 * One console line in full: its text wrapped (however long it is, colour codes
 * removed) and its fields (time to the millisecond, level, stream, agent,
 * source, number), each ready to copy. The first line of a record of several
 * lines shows the whole record.
 */
class LineDetailDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LineDetailDialog)

public:
    /// index: a row with ConsoleModel's roles.
    explicit LineDetailDialog(const QModelIndex& index, QWidget* parent = nullptr);

    QString text() const;
    /// The fields and the text, as "Field: value" lines, as "Copy All" puts them on the clipboard.
    QString allFields() const { return m_all; }

private:
    QPlainTextEdit* m_text;
    QString m_all;
};
