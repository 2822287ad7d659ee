// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/protocol/json.h"

#include <QByteArrayView>
#include <QList>
#include <QString>
#include <QStringList>
#include <limits>

/// The first problem found in a configuration: what, and where in its text.
struct ConfigProblem
{
    QString message; // "<path><key>: expected ..." or "<path><key>: unknown key ..."
    const char* at = nullptr; // into the parsed text; null when not known

    bool isSet() const { return !message.isEmpty(); }
    /// "line:column" (1-based, columns in characters) of `at` in text; empty when outside it.
    QString position(QByteArrayView text) const;
};

/*
 * Reads the members of one JSON object of a configuration into typed fields.
 * Every key read (or asked for with value() or object()) counts as known;
 * rejectUnknownKeys() then reports the first other key, with the known key it
 * looks like a misspelling of. Readers of one file share a ConfigProblem, and
 * only the first problem is kept.
 */
class ConfigReader final
{
public:
    /// path prefixes keys in messages ("limits.", "agents[2].").
    ConfigReader(Json::Value object, QString path, ConfigProblem* problem);

    bool ok() const { return !m_problem->isSet(); }

    void readString(const char* key, QString* target);
    template <typename Int>
    void readInteger(const char* key, Int* target, qint64 minimum = 0, qint64 maximum = std::numeric_limits<Int>::max())
    {
        const Json::Value v = value(key);
        if (v.isUndefined() || v.isNull())
            return;
        if (!v.isInteger() || v.toInteger() < minimum || v.toInteger() > maximum)
            return fail(key, QStringLiteral("an integer from %1 to %2").arg(minimum).arg(maximum));
        *target = Int(v.toInteger());
    }
    void readNumber(const char* key, double* target, double minimum = 0,
                    double maximum = std::numeric_limits<double>::max());
    void readBool(const char* key, bool* target);
    void readStringList(const char* key, QStringList* target);
    /// The member object named key; an Undefined value when absent (an error when not an object).
    Json::Value object(const char* key);
    /// The member named key, for a caller that reads it itself.
    Json::Value value(const char* key);

    /// Records "<path><key>: expected <expected>" at the member's value.
    void fail(const char* key, const QString& expected);
    /// Reports the first member whose key was not read, asked for, or allowed.
    void rejectUnknownKeys(const QList<QByteArrayView>& alsoKnown = {});

    /// The known key nearest to key when key looks like a misspelling of it; empty otherwise.
    static QByteArrayView nearestKey(QByteArrayView key, const QList<QByteArrayView>& known);

private:
    Json::Value m_object;
    QString m_path;
    ConfigProblem* m_problem;
    QList<QByteArrayView> m_known;
};
