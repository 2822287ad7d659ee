// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/ansi.h"

namespace Ansi {

namespace {

constexpr QChar Escape(0x1b);
constexpr QChar Bell(0x07);

/// The 16 basic colours, darker on a light base and lighter on a dark one.
QColor basic(int index, bool dark)
{
    static const QRgb onLight[16] = {0x000000, 0xc01c28, 0x26a269, 0xa2734c, 0x12488b, 0xa347ba, 0x2aa1b3, 0x5e5c64,
                                     0x5e5c64, 0xf66151, 0x33a15a, 0x9a7500, 0x2a7bde, 0xc061cb, 0x1f9aa8, 0x3d3846};
    static const QRgb onDark[16] = {0x8a8a8a, 0xf66151, 0x57e389, 0xf8e45c, 0x62a0ea, 0xdc8add, 0x5bc8da, 0xd0cfcc,
                                    0x9a9996, 0xff7b63, 0x8ff0a4, 0xfff175, 0x8fbcf2, 0xf0a8f1, 0x93ddea, 0xffffff};
    return QColor(dark ? onDark[index & 15] : onLight[index & 15]);
}

/// A colour of the 256-colour table.
QColor indexed(int index, bool dark)
{
    if (index < 16)
        return basic(index, dark);
    if (index < 232) {
        const int i = index - 16;
        const auto level = [](int v) {
            return v == 0 ? 0 : 55 + v * 40;
        };
        return QColor(level(i / 36), level(i / 6 % 6), level(i % 6));
    }
    const int gray = 8 + (index - 232) * 10;
    return QColor(gray, gray, gray);
}

struct Style
{
    QColor foreground;
    QColor background;
    bool bold = false;
    bool inverse = false;

    bool isPlain() const { return !foreground.isValid() && !background.isValid() && !bold && !inverse; }
    bool operator==(const Style& o) const
    {
        return foreground == o.foreground && background == o.background && bold == o.bold && inverse == o.inverse;
    }
};

/// Applies the parameters of one SGR sequence ("1;31", "38;5;208", "" for a reset).
void applySgr(QStringView parameters, Style* style, bool dark)
{
    QList<int> codes;
    for (QStringView part : parameters.split(QLatin1Char(';')))
        codes.append(part.isEmpty() ? 0 : part.toInt());
    if (codes.isEmpty())
        codes.append(0);
    for (qsizetype i = 0; i < codes.size(); ++i) {
        const int code = codes[i];
        if (code == 0) {
            *style = Style();
        } else if (code == 1) {
            style->bold = true;
        } else if (code == 22) {
            style->bold = false;
        } else if (code == 7) {
            style->inverse = true;
        } else if (code == 27) {
            style->inverse = false;
        } else if (code >= 30 && code <= 37) {
            style->foreground = basic(code - 30, dark);
        } else if (code >= 90 && code <= 97) {
            style->foreground = basic(code - 90 + 8, dark);
        } else if (code == 39) {
            style->foreground = QColor();
        } else if (code >= 40 && code <= 47) {
            style->background = basic(code - 40, dark);
        } else if (code >= 100 && code <= 107) {
            style->background = basic(code - 100 + 8, dark);
        } else if (code == 49) {
            style->background = QColor();
        } else if (code == 38 || code == 48) {
            QColor color;
            if (i + 2 < codes.size() && codes[i + 1] == 5) {
                color = indexed(std::clamp(codes[i + 2], 0, 255), dark);
                i += 2;
            } else if (i + 4 < codes.size() && codes[i + 1] == 2) {
                color = QColor(std::clamp(codes[i + 2], 0, 255), std::clamp(codes[i + 3], 0, 255),
                               std::clamp(codes[i + 4], 0, 255));
                i += 4;
            } else {
                break; // malformed: the rest cannot be read
            }
            (code == 38 ? style->foreground : style->background) = color;
        }
    }
}

} // namespace

QString strip(const QString& text, QList<Run>* runs, bool darkPalette)
{
    if (!hasEscapes(text))
        return text;
    QString out;
    out.reserve(text.size());
    Style style;
    int runStart = 0;
    const auto closeRun = [&] {
        if (runs && !style.isPlain() && out.size() > runStart) {
            Run run;
            run.begin = runStart;
            run.length = int(out.size()) - runStart;
            run.foreground = style.inverse ? style.background : style.foreground;
            run.background =
                style.inverse ? (style.foreground.isValid() ? style.foreground : QColor(Qt::gray)) : style.background;
            run.bold = style.bold;
            runs->append(run);
        }
        runStart = int(out.size());
    };
    const qsizetype n = text.size();
    qsizetype i = 0;
    while (i < n) {
        const QChar c = text[i];
        if (c != Escape) {
            out.append(c);
            ++i;
            continue;
        }
        if (i + 1 >= n) {
            ++i; // a lone escape at the end
            continue;
        }
        const QChar kind = text[i + 1];
        if (kind == QLatin1Char('[')) {
            // CSI: parameters and intermediates, then one final byte in @..~.
            qsizetype j = i + 2;
            while (j < n && (text[j].unicode() < 0x40 || text[j].unicode() > 0x7e) && text[j].unicode() >= 0x20)
                ++j;
            if (j >= n || text[j].unicode() < 0x20) {
                i = j; // unterminated: drop what was read
                continue;
            }
            if (text[j] == QLatin1Char('m')) {
                Style next = style;
                applySgr(QStringView(text).mid(i + 2, j - i - 2), &next, darkPalette);
                if (!(next == style)) {
                    closeRun();
                    style = next;
                }
            }
            i = j + 1;
        } else if (kind == QLatin1Char(']')) {
            // OSC: up to BEL or ESC backslash.
            qsizetype j = i + 2;
            while (j < n && text[j] != Bell && !(text[j] == Escape && j + 1 < n && text[j + 1] == QLatin1Char('\\')))
                ++j;
            i = j < n ? (text[j] == Bell ? j + 1 : j + 2) : n;
        } else {
            // Other escapes: intermediate bytes, then one final byte (ESC 7, ESC ( B, ...).
            qsizetype j = i + 1;
            while (j < n && text[j].unicode() >= 0x20 && text[j].unicode() <= 0x2f)
                ++j;
            i = std::min(n, j + 1);
        }
    }
    closeRun();
    return out;
}

} // namespace Ansi
