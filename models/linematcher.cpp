// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/linematcher.h"

#include <hs.h>

#include <algorithm>

namespace {

// One report per pattern and line is all an alert needs, and lets Hyperscan stop early.
constexpr unsigned PatternFlags = HS_FLAG_SINGLEMATCH | HS_FLAG_UTF8;

int onMatch(unsigned int id, unsigned long long, unsigned long long, unsigned int, void* context)
{
    static_cast<std::vector<int>*>(context)->push_back(int(id));
    return 0;
}

} // namespace

LineMatcher::LineMatcher() = default;

LineMatcher::~LineMatcher()
{
    clear();
}

void LineMatcher::clear()
{
    hs_free_scratch(m_scratch);
    hs_free_database(m_database);
    m_scratch = nullptr;
    m_database = nullptr;
    m_fallback.clear();
    m_always.clear();
    m_slow.clear();
}

bool LineMatcher::fastPathAccepts(const QString& pattern, QString* reason)
{
    if (pattern.isEmpty())
        return true;
    const QByteArray utf8 = pattern.toUtf8();
    hs_database_t* database = nullptr;
    hs_compile_error_t* error = nullptr;
    if (hs_compile(utf8.constData(), PatternFlags, HS_MODE_BLOCK, nullptr, &database, &error) != HS_SUCCESS) {
        if (reason)
            *reason = QString::fromUtf8(error ? error->message : "unknown error");
        hs_free_compile_error(error);
        return false;
    }
    hs_free_database(database);
    return true;
}

void LineMatcher::setPatterns(const QStringList& patterns)
{
    clear();
    m_fallback.assign(size_t(patterns.size()), false);
    std::vector<QByteArray> utf8;
    std::vector<unsigned> ids;
    for (int i = 0; i < patterns.size(); ++i) {
        if (patterns.at(i).isEmpty()) {
            m_always.push_back(i);
            continue;
        }
        utf8.push_back(patterns.at(i).toUtf8());
        ids.push_back(unsigned(i));
    }
    // Hyperscan names the first pattern it rejects; that one goes to the slow path and the rest are tried again.
    while (!ids.empty()) {
        std::vector<const char*> expressions;
        for (const QByteArray& bytes : utf8)
            expressions.push_back(bytes.constData());
        const std::vector<unsigned> flags(ids.size(), PatternFlags);
        hs_compile_error_t* error = nullptr;
        const hs_error_t result = hs_compile_multi(expressions.data(), flags.data(), ids.data(), unsigned(ids.size()),
                                                   HS_MODE_BLOCK, nullptr, &m_database, &error);
        if (result == HS_SUCCESS)
            break;
        const int rejected = error ? error->expression : -1;
        hs_free_compile_error(error);
        m_database = nullptr;
        if (rejected < 0 || size_t(rejected) >= ids.size()) {
            // Not one pattern's fault (out of memory, say): every pattern takes the slow path.
            for (const unsigned id : ids)
                m_fallback[id] = true;
            break;
        }
        m_fallback[ids[size_t(rejected)]] = true;
        ids.erase(ids.begin() + rejected);
        utf8.erase(utf8.begin() + rejected);
    }
    if (m_database && hs_alloc_scratch(m_database, &m_scratch) != HS_SUCCESS) {
        hs_free_database(m_database);
        m_database = nullptr;
        for (const unsigned id : ids)
            m_fallback[id] = true;
    }
    for (int i = 0; i < patterns.size(); ++i) {
        if (!m_fallback[size_t(i)])
            continue;
        QRegularExpression expression(patterns.at(i));
        if (!expression.isValid())
            continue;
        expression.optimize();
        m_slow.append({i, expression});
    }
}

void LineMatcher::match(QByteArrayView utf8Text, std::vector<int>* hits)
{
    const size_t first = hits->size();
    hits->insert(hits->end(), m_always.begin(), m_always.end());
    if (m_database) {
        // Hyperscan refuses a null pointer, which an empty line may have.
        const char* data = utf8Text.data() ? utf8Text.data() : "";
        hs_scan(m_database, data, unsigned(utf8Text.size()), 0, m_scratch, onMatch, hits);
    }
    if (!m_slow.isEmpty()) {
        const QString text = QString::fromUtf8(utf8Text);
        for (const auto& [index, expression] : std::as_const(m_slow)) {
            if (expression.match(text).hasMatch())
                hits->push_back(index);
        }
    }
    std::sort(hits->begin() + qsizetype(first), hits->end());
}
