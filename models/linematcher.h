// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArrayView>
#include <QList>
#include <QRegularExpression>
#include <QStringList>
#include <vector>

struct hs_database;
struct hs_scratch;

/*
 * Many regular expressions against one console line at a time. Hyperscan
 * compiles every pattern it takes into one database and finds all of them in
 * one pass over the line; a pattern it rejects (a backreference, some
 * lookarounds) is matched on its own with QRegularExpression, which is slower
 * but speaks the whole PCRE dialect. Not thread-safe: one matcher per thread
 * (the scan's scratch space is its own).
 */
class LineMatcher final
{
    Q_DISABLE_COPY_MOVE(LineMatcher)

public:
    LineMatcher();
    ~LineMatcher();

    /// Compiles the patterns; a pattern is known by its index. One that does not
    /// compile at all never matches (AlertRule::validate tells the user why).
    void setPatterns(const QStringList& patterns);
    int patternCount() const { return int(m_fallback.size()); }
    /// The indexes of the patterns that match a line (valid UTF-8), each once, ascending.
    void match(QByteArrayView utf8Text, std::vector<int>* hits);
    /// Whether a pattern is matched on its own (Hyperscan rejected it).
    bool isFallback(int index) const { return m_fallback.at(size_t(index)); }

    /// Whether Hyperscan takes a pattern; its reason when not.
    static bool fastPathAccepts(const QString& pattern, QString* reason = nullptr);

private:
    void clear();

    hs_database* m_database = nullptr;
    hs_scratch* m_scratch = nullptr;
    std::vector<bool> m_fallback;
    std::vector<int> m_always; // empty patterns: every line
    QList<std::pair<int, QRegularExpression>> m_slow;
};
