// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/emptyhint.h"

#include <QAbstractItemView>
#include <QEvent>
#include <QPainter>

namespace {

/// Paints the hint over an empty view's viewport.
class EmptyHint final : public QObject
{
public:
    EmptyHint(QAbstractItemView* view, const QString& text)
        : QObject(view)
        , m_view(view)
        , m_text(text)
    {
        view->viewport()->installEventFilter(this);
    }

protected:
    bool eventFilter(QObject* watched, QEvent* event) override
    {
        if (event->type() != QEvent::Paint || watched != m_view->viewport() || !m_view->model()
            || m_view->model()->rowCount(m_view->rootIndex()) > 0)
            return false;
        QWidget* viewport = m_view->viewport();
        QPainter painter(viewport);
        painter.setPen(viewport->palette().color(QPalette::PlaceholderText));
        const int margin = viewport->fontMetrics().averageCharWidth() * 2;
        painter.drawText(viewport->rect().adjusted(margin, margin, -margin, -margin),
                         Qt::AlignCenter | Qt::TextWordWrap, m_text);
        return true;
    }

private:
    QAbstractItemView* m_view;
    QString m_text;
};

} // namespace

void setEmptyHint(QAbstractItemView* view, const QString& text)
{
    new EmptyHint(view, text);
}
