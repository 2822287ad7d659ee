// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <memory>
#include <type_traits>

/*
 * Turns the output of a child process, read from a pipe in chunks of any size,
 * into console lines. One splitter per stream (stdout, stderr).
 *
 * - A line ends at "\n". Carriage returns rewrite the line the way a progress bar
 *   expects: the line shows its last non-empty "\r"-separated part, so
 *   "10%\r20%\r30%\n" gives "30%", and "abc\r\n" and "abc\r\r\n" give "abc".
 * - Lines are valid UTF-8: every maximal subpart of an ill-formed sequence (Unicode
 *   chapter 3, "U+FFFD Substitution of Maximal Subparts", as Python and the WHATWG
 *   decoder do) becomes one U+FFFD, so "C0 AF" gives two, "ED A0 80" three and
 *   "E2 82 41" one followed by "A". Characters split across chunks stay intact.
 *   NUL, other control characters, ANSI escape sequences and a byte order mark pass
 *   through unchanged.
 * - A line's last part longer than maxLineBytes() bytes (as received) is cut to its
 *   first maxLineBytes() bytes, backed off to a character boundary, followed by
 *   CutMarker and the number of bytes left out: "... … [line cut: 983,040 more bytes]".
 *   The line is handed out when its newline arrives, with the exact count; only the
 *   first maxLineBytes() + 1 bytes are kept meanwhile, so memory stays bounded
 *   however long the line is. Replacement characters can make a cut line up to three
 *   times longer than the limit when the text is mostly invalid.
 *
 * Complete lines that lie within one chunk and need no repair (the common case) are
 * views into the caller's chunk; nothing is copied.
 */
class OutputSplitter final
{
public:
    static constexpr qsizetype DefaultMaxLineBytes = 65536;
    /// The smallest and largest limits accepted; the constructor clamps to them.
    static constexpr qsizetype MinimumMaxLineBytes = 256;
    static constexpr qsizetype MaximumMaxLineBytes = qsizetype(1) << 30;
    /// Put between a cut line and the count: space, U+2026, space, "[line cut: ".
    static constexpr QByteArrayView CutMarker = " \xe2\x80\xa6 [line cut: ";

    explicit OutputSplitter(qsizetype maxLineBytes = DefaultMaxLineBytes);

    /// Hands each line that data completes to onLine(QByteArrayView line), in order.
    /// The view is valid only during the call; onLine must not feed, finish or clear
    /// the splitter.
    template <typename F>
    void feed(QByteArrayView data, F&& onLine)
    {
        feedImpl(data, &invoke<std::remove_reference_t<F>>,
                 const_cast<void*>(static_cast<const void*>(std::addressof(onLine))));
    }

    /// Ends the stream (end of file, process exit): an unfinished line with any bytes
    /// is handed to onLine as if its newline had come, so feeding "x" and then
    /// finishing gives the same lines as feeding "x\n". The splitter can be fed again.
    template <typename F>
    void finish(F&& onLine)
    {
        finishImpl(&invoke<std::remove_reference_t<F>>,
                   const_cast<void*>(static_cast<const void*>(std::addressof(onLine))));
    }

    /// Forgets the unfinished line without handing it out.
    void clear();

    /// Whether bytes arrived after the last newline.
    bool hasPartial() const { return m_hasPartial; }
    /// Whether the unfinished line changed (got bytes, was completed or cleared, was
    /// replaced after a carriage return) since partial() was last called. Bytes left
    /// out of a line longer than the limit and carriage returns that replace nothing
    /// yet do not count; bytes of an incomplete character do, though they do not show.
    bool partialChanged() const { return m_partialChanged; }
    /// The unfinished line as it shows now: carriage returns applied, valid UTF-8
    /// without the incomplete character at its end, cut like a complete line but
    /// without the marker; empty when there is none. Clears partialChanged(). The view is
    /// valid until the splitter is next fed, finished, cleared or asked again.
    QByteArrayView partial();

    qsizetype maxLineBytes() const { return m_maxLineBytes; }
    /// The bytes the splitter has allocated: about twice maxLineBytes() at most (four
    /// times while a long, mostly ill-formed line is handed out or shown).
    qsizetype bufferCapacity() const { return m_pending.capacity() + m_line.capacity(); }

private:
    using LineSink = void (*)(void* context, QByteArrayView line);

    template <typename F>
    static void invoke(void* context, QByteArrayView line)
    {
        (*static_cast<F*>(context))(line);
    }

    void feedImpl(QByteArrayView data, LineSink sink, void* context);
    void finishImpl(LineSink sink, void* context);
    void appendPartial(const char* from, const char* to);
    void appendSegment(const char* from, const char* to);
    void emitPartial(LineSink sink, void* context);
    QByteArrayView completeLine(QByteArrayView line, qint64 leftOut, bool knownValid);
    void releaseLargeBuffers();

    qsizetype m_maxLineBytes;
    // The last part of the unfinished line (no '\r' in it), its first m_maxLineBytes + 1
    // bytes; the extra byte tells whether the cut splits a character.
    QByteArray m_pending;
    qint64 m_leftOut = 0; // bytes of that part beyond m_pending
    qsizetype m_checkedPending = 0; // leading bytes of m_pending that partial() found well-formed
    bool m_hasPartial = false;
    bool m_crAfterPending = false; // '\r' came after m_pending; the next byte other than '\r' starts a new part
    bool m_partialChanged = false;
    QByteArray m_line; // a line that needed repair, a cut or joining; partial()'s repaired text
};

/// Whether text is well-formed UTF-8 (checked eight bytes at a time while it is ASCII).
bool isValidUtf8(QByteArrayView text);

/// When text holds ill-formed UTF-8, writes it to *out with each maximal subpart of an
/// ill-formed sequence (a truncated sequence at the end included) replaced by U+FFFD
/// and returns true; otherwise returns false and leaves *out alone. text may point
/// into *out.
bool repairUtf8(QByteArrayView text, QByteArray* out);
