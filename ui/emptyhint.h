// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

class QAbstractItemView;

/// Shows text in the middle of a view while its model has no rows: what will
/// appear there, and where it comes from, instead of a blank area.
void setEmptyHint(QAbstractItemView* view, const QString& text);
