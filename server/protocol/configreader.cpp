// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/protocol/configreader.h"

#include <algorithm>
#include <vector>

namespace {

/// Where the key of an object member begins in the text: the quote before it.
const char* keyPosition(Json::Value member)
{
    const char* p = member.raw().data();
    // Back over `"key" :` to the key's opening quote; an escaped quote inside the key
    // has an odd number of backslashes before it.
    const auto skipSpace = [&p] {
        while (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n' || p[-1] == '\r')
            --p;
    };
    skipSpace();
    if (p[-1] != ':')
        return member.raw().data();
    --p;
    skipSpace();
    if (p[-1] != '"')
        return member.raw().data();
    --p;
    for (--p;; --p) {
        if (*p != '"')
            continue;
        int backslashes = 0;
        while (p[-1 - backslashes] == '\\')
            ++backslashes;
        if (backslashes % 2 == 0)
            return p;
    }
}

/// Optimal string alignment distance: edits, with a swap of two neighbours as one.
int editDistance(QByteArrayView a, QByteArrayView b)
{
    const qsizetype n = a.size();
    const qsizetype m = b.size();
    std::vector<int> previous2(size_t(m + 1)), previous(size_t(m + 1)), current(size_t(m + 1));
    for (qsizetype j = 0; j <= m; ++j)
        previous[size_t(j)] = int(j);
    for (qsizetype i = 1; i <= n; ++i) {
        current[0] = int(i);
        for (qsizetype j = 1; j <= m; ++j) {
            const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int best = std::min({previous[size_t(j)] + 1, current[size_t(j - 1)] + 1, previous[size_t(j - 1)] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                best = std::min(best, previous2[size_t(j - 2)] + 1);
            current[size_t(j)] = best;
        }
        std::swap(previous2, previous);
        std::swap(previous, current);
    }
    return previous[size_t(m)];
}

} // namespace

QString ConfigProblem::position(QByteArrayView text) const
{
    if (!at || at < text.data() || at > text.data() + text.size())
        return {};
    int line = 1;
    int column = 1;
    for (const char* p = text.data(); p < at; ++p) {
        if (*p == '\n') {
            ++line;
            column = 1;
        } else if ((uchar(*p) & 0xc0) != 0x80) {
            ++column;
        }
    }
    return QStringLiteral("%1:%2").arg(line).arg(column);
}

ConfigReader::ConfigReader(Json::Value object, QString path, ConfigProblem* problem)
    : m_object(object)
    , m_path(std::move(path))
    , m_problem(problem)
{ }

Json::Value ConfigReader::value(const char* key)
{
    m_known.append(QByteArrayView(key));
    return m_object[key];
}

void ConfigReader::readString(const char* key, QString* target)
{
    const Json::Value v = value(key);
    if (v.isUndefined() || v.isNull())
        return;
    if (!v.isString())
        return fail(key, QStringLiteral("a string"));
    *target = v.toString();
}

void ConfigReader::readNumber(const char* key, double* target, double minimum, double maximum)
{
    const Json::Value v = value(key);
    if (v.isUndefined() || v.isNull())
        return;
    if (!v.isNumber() || v.toDouble() < minimum || v.toDouble() > maximum) {
        return fail(key,
                    maximum == std::numeric_limits<double>::max()
                        ? QStringLiteral("a number not below %1").arg(minimum)
                        : QStringLiteral("a number from %1 to %2").arg(minimum).arg(maximum));
    }
    *target = v.toDouble();
}

void ConfigReader::readBool(const char* key, bool* target)
{
    const Json::Value v = value(key);
    if (v.isUndefined() || v.isNull())
        return;
    if (!v.isBool())
        return fail(key, QStringLiteral("true or false"));
    *target = v.toBool();
}

void ConfigReader::readStringList(const char* key, QStringList* target)
{
    const Json::Value v = value(key);
    if (v.isUndefined() || v.isNull())
        return;
    if (!v.isArray())
        return fail(key, QStringLiteral("an array of strings"));
    QStringList list;
    for (const Json::Value item : v.items()) {
        if (!item.isString())
            return fail(key, QStringLiteral("an array of strings"));
        list.append(item.toString());
    }
    *target = list;
}

Json::Value ConfigReader::object(const char* key)
{
    const Json::Value v = value(key);
    if (!v.isUndefined() && !v.isNull() && !v.isObject())
        fail(key, QStringLiteral("an object"));
    return v.isObject() ? v : Json::Value();
}

void ConfigReader::fail(const char* key, const QString& expected)
{
    if (m_problem->isSet())
        return;
    m_problem->message = QStringLiteral("%1%2: expected %3").arg(m_path, QLatin1String(key), expected);
    const Json::Value v = m_object[key];
    m_problem->at = v.isUndefined() ? nullptr : v.raw().data();
}

void ConfigReader::rejectUnknownKeys(const QList<QByteArrayView>& alsoKnown)
{
    if (m_problem->isSet() || !m_object.isObject())
        return;
    const QList<QByteArrayView> known = m_known + alsoKnown;
    for (const Json::Value member : m_object.items()) {
        if (known.contains(member.key()))
            continue;
        const QString key = QString::fromUtf8(member.key());
        const QByteArrayView nearest = nearestKey(member.key(), known);
        if (!nearest.isEmpty()) {
            m_problem->message =
                QStringLiteral("%1%2: unknown key; did you mean \"%3\"?").arg(m_path, key, QString::fromUtf8(nearest));
        } else {
            QStringList names;
            for (QByteArrayView k : known) {
                if (!names.contains(QString::fromUtf8(k)))
                    names.append(QString::fromUtf8(k));
            }
            m_problem->message =
                QStringLiteral("%1%2: unknown key (known: %3)").arg(m_path, key, names.join(QStringLiteral(", ")));
        }
        m_problem->at = keyPosition(member);
        return;
    }
}

QByteArrayView ConfigReader::nearestKey(QByteArrayView key, const QList<QByteArrayView>& known)
{
    // A misspelling: a few edits for the key's length, or the same letters in another case.
    const int allowed = std::max<int>(1, int(key.size()) / 4);
    QByteArrayView best;
    int bestDistance = allowed + 1;
    for (QByteArrayView candidate : known) {
        const int distance = key.compare(candidate, Qt::CaseInsensitive) == 0 ? 0 : editDistance(key, candidate);
        if (distance < bestDistance) {
            best = candidate;
            bestDistance = distance;
        }
    }
    return best;
}
