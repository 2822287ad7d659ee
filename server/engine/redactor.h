// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QRegularExpression>
#include <QStringList>

/*
 * Replaces secrets in console and forum text by "[REDACTED]" before anything is
 * stored or sent: API keys such as "sk-...", "password=...", "token=..." or
 * "token: ...", bearer tokens, plus patterns from the configuration.
 */
class Redactor final
{
public:
    Redactor();

    /// Sets the rules: the built-in ones when useDefaults, plus extraPatterns (regular
    /// expressions; the whole match, or the first capture group when there is one, is
    /// replaced). Returns false and leaves the rules unchanged when a pattern is invalid.
    bool configure(bool useDefaults, const QStringList& extraPatterns, QString* error = nullptr);

    /// When utf8 holds a secret, writes the redacted text to *out and returns true;
    /// otherwise returns false and leaves *out alone.
    bool redact(QByteArrayView utf8, QByteArray* out) const;

    static constexpr QByteArrayView Marker = "[REDACTED]";

private:
    bool redactPatterns(QByteArrayView utf8, QByteArray* out) const;

    bool m_useDefaults = true;
    QList<QRegularExpression> m_extra; // compiled and optimized by configure()
};
