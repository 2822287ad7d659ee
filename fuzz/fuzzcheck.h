// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArrayView>
#include <QString>
#include <QTemporaryDir>

#include <cstdio>
#include <cstdlib>

/*
 * What the fuzz targets share: a check that stops the run (libFuzzer keeps the
 * input as a crash), a UTF-8 validator of their own to hold the code under test
 * to its promises, and a scratch folder for targets that read files.
 */
namespace Fuzz {

/// Aborts with what when ok is false.
inline void check(bool ok, const char* what)
{
    if (ok)
        return;
    std::fprintf(stderr, "fuzz check failed: %s\n", what);
    std::abort();
}

/// Whether text is well-formed UTF-8 (Unicode chapter 3, table 3-7), byte by byte.
inline bool isWellFormedUtf8(QByteArrayView text)
{
    qsizetype i = 0;
    while (i < text.size()) {
        const uchar lead = uchar(text[i]);
        int length = 1;
        uchar low = 0x80;
        uchar high = 0xBF;
        if (lead < 0x80) {
            ++i;
            continue;
        }
        if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            length = 3;
            low = lead == 0xE0 ? 0xA0 : 0x80;
            high = lead == 0xED ? 0x9F : 0xBF;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4;
            low = lead == 0xF0 ? 0x90 : 0x80;
            high = lead == 0xF4 ? 0x8F : 0xBF;
        } else {
            return false;
        }
        if (text.size() - i < length)
            return false;
        const uchar second = uchar(text[i + 1]);
        if (second < low || second > high)
            return false;
        for (int k = 2; k < length; ++k) {
            if ((uchar(text[i + k]) & 0xC0) != 0x80)
                return false;
        }
        i += length;
    }
    return true;
}

/// A folder of this process's own, removed at exit.
inline QString scratchDirectory()
{
    static QTemporaryDir dir;
    check(dir.isValid(), "a temporary folder can be made");
    return dir.path();
}

} // namespace Fuzz
