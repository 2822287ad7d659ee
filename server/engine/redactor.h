// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QRegularExpression>
#include <QStringList>
#include <QStringView>

/*
 * Replaces secrets in console and forum text by "[REDACTED]" before anything is
 * stored or sent: API keys such as "sk-...", "password=...", "token=..." or
 * "token: ...", bearer tokens, JWTs, private keys, plus patterns from the
 * configuration. The rules are listed at the top of redactor.cpp.
 */
class Redactor final
{
public:
    /*
     * What a console's earlier lines tell about the next one, for text that
     * arrives one line per redact() call. A private key printed to a console comes
     * as a BEGIN line, lines of base64 and an END line: only the state carried
     * from the BEGIN line shows the lines after it to be secret.
     *
     * Contract: one Stream per console (per agent and stream), starting
     * default-constructed, passed to every redact() of that console's lines in
     * order, each call holding one line without its line break. After a line that
     * opens a private key (a BEGIN ... PRIVATE KEY line with no END after it):
     *   - a line of key body (only [A-Za-z0-9+/=] and blanks, or a header such as
     *     "Proc-Type: 4,ENCRYPTED" or "DEK-Info: ...") becomes "[REDACTED]";
     *   - a blank line, or one that reads exactly "[REDACTED]", is kept as it is
     *     and keeps the key open; so does a line that other rules redact whole to
     *     "[REDACTED]", as its output would on a second pass;
     *   - a line holding "-----END " has what precedes it redacted, the rest
     *     redacted as usual, and closes the key;
     *   - any other line closes the key and is redacted as usual, so a stray BEGIN
     *     line does not swallow a console.
     * A text with several lines is handled as a whole (its own BEGIN and END lines
     * work without the state). Without built-in rules (configure(false, ...)) the
     * state stays closed. Redacting an output line again, statelessly, changes
     * nothing.
     */
    struct Stream
    {
        bool inPrivateKey = false;
    };

    Redactor();

    /// Sets the rules: the built-in ones when useDefaults, plus extraPatterns (regular
    /// expressions; the whole match, or the first capture group when there is one, is
    /// replaced). Returns false and leaves the rules unchanged when a pattern is invalid.
    bool configure(bool useDefaults, const QStringList& extraPatterns, QString* error = nullptr);

    /// When utf8 holds a secret, writes the redacted text to *out and returns true;
    /// otherwise returns false and leaves *out alone. utf8 may live in *out.
    bool redact(QByteArrayView utf8, QByteArray* out) const;

    /// The same for one line of a console, with the state its earlier lines left
    /// in *stream (see Stream), which it updates; a null stream is redact(utf8, out).
    bool redact(QByteArrayView utf8, QByteArray* out, Stream* stream) const;

    /// The text to show: utf8 itself when it holds no secret, else its redacted copy,
    /// kept in *scratch (which utf8 may live in). Valid while both are.
    QByteArrayView redacted(QByteArrayView utf8, QByteArray* scratch, Stream* stream = nullptr) const
    {
        return redact(utf8, scratch, stream) ? QByteArrayView(*scratch) : utf8;
    }

    /// Redacts a command's arguments as a launched agent's definition shows them.
    /// Each argument is redacted as a line of its own; the argument after a long
    /// flag of a secret name without a value ("--password", "--api-key", but not
    /// "--token-file") becomes "[REDACTED]" unless it is a long flag itself; and
    /// when program or an earlier argument names mysql or mariadb (any case), an
    /// argument "-pSECRET" becomes "-p[REDACTED]". Without the built-in rules only the
    /// configured patterns apply, argument by argument. Returns whether anything changed.
    bool redactArguments(QStringList* args, QStringView program = {}) const;

    static constexpr QByteArrayView Marker = "[REDACTED]";

private:
    bool redactPatterns(QByteArrayView utf8, QByteArray* out) const;

    bool m_useDefaults = true;
    QList<QRegularExpression> m_extra; // compiled and optimized by configure()
};
