// SPDX-License-Identifier: GPL-3.0-or-later
// Json::Document on any bytes: a parse either fails with an offset inside the input
// or gives values that every accessor reads without fault, that a reused document
// reads the same way, and that Json::Writer writes back into a text that parses to
// the same values.
#include "fuzz/fuzzcheck.h"
#include "server/protocol/json.h"

#include <charconv>
#include <cstdint>

namespace {

using Fuzz::check;

// Writes value with Json::Writer; numbers as their source text.
void write(Json::Writer& w, Json::Value value)
{
    switch (value.type()) {
    case Json::Type::Object:
        w.beginObject();
        for (const Json::Value member : value.items()) {
            w.key(member.key());
            write(w, member);
        }
        w.endObject();
        break;
    case Json::Type::Array:
        w.beginArray();
        for (const Json::Value item : value.items())
            write(w, item);
        w.endArray();
        break;
    case Json::Type::String:
        w.string(value.toUtf8());
        break;
    case Json::Type::Number:
        w.raw(value.raw());
        break;
    case Json::Type::Bool:
        w.boolean(value.toBool());
        break;
    case Json::Type::Null:
        w.null();
        break;
    case Json::Type::Undefined:
        check(false, "a parsed value is never Undefined");
        break;
    }
}

QByteArray written(const Json::Document& doc)
{
    QByteArray out;
    Json::Writer w(&out);
    write(w, doc.root());
    return out;
}

// Reads value the ways the host's handlers do, checking what the header promises.
void walk(Json::Value value, QByteArrayView source, int depth)
{
    check(depth <= Json::Document::MaxDepth + 1, "nesting stays within MaxDepth");
    const QByteArrayView raw = value.raw();
    check(raw.data() >= source.data() && raw.data() + raw.size() <= source.data() + source.size(),
          "raw() lies inside the source");
    value.toBool();
    value.toDouble();
    value.toString();
    switch (value.type()) {
    case Json::Type::Number: {
        qint64 parsed = 0;
        const auto [end, error] = std::from_chars(raw.data(), raw.data() + raw.size(), parsed);
        const bool integer = error == std::errc() && end == raw.data() + raw.size();
        check(value.isInteger() == integer, "isInteger() is true for exactly the numbers that fit in qint64");
        check(!integer || value.toInteger() == parsed, "toInteger() is the number written");
        break;
    }
    case Json::Type::String:
        check(raw.size() >= 2 && raw.front() == '"' && raw.back() == '"', "a string's raw() is quoted");
        check(value.toUtf8().size() <= raw.size() - 2, "unescaping never makes a string longer");
        break;
    case Json::Type::Object:
    case Json::Type::Array: {
        qsizetype count = 0;
        for (const Json::Value child : value.items()) {
            ++count;
            if (value.isObject() && count <= 64) {
                const QByteArrayView key = child.key();
                // operator[] finds the first member of that name (checked for the first few:
                // each check walks the members).
                Json::Value first;
                for (const Json::Value other : value.items()) {
                    if (other.key() == key) {
                        first = other;
                        break;
                    }
                }
                check(value[key].raw().data() == first.raw().data(), "operator[] finds the first member of a name");
            } else if (value.isArray()) {
                check(child.key().isEmpty(), "array elements have no key");
            }
            walk(child, source, depth + 1);
        }
        check(count == value.size(), "items() has size() elements");
        break;
    }
    default:
        check(!value.isInteger() && value.toUtf8().isEmpty() && value.size() == 0,
              "scalars are neither integers, strings nor containers");
        break;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char*>(data), qsizetype(size));

    Json::Document doc;
    QString error;
    const bool ok = doc.parse(input, &error);
    if (!ok) {
        check(doc.root().isUndefined(), "a failed parse has no root");
        check(doc.errorOffset() >= 0 && doc.errorOffset() <= input.size(), "the error offset lies in the input");
        check(!error.isEmpty(), "a failed parse says why");
    } else {
        check(!doc.root().isUndefined(), "a parse that succeeds has a root");
        walk(doc.root(), input, 0);
    }

    // The host parses every message into one reused document: what an earlier
    // message left in it must not show through.
    static Json::ReusedDocument reused;
    const Json::ReusedDocument::Lease lease(reused);
    check(lease->parse(input) == ok, "a reused document accepts what a fresh one does");
    if (!ok)
        return 0;
    const QByteArray text = written(doc);
    check(written(*lease) == text, "a reused document reads the same values");

    // A message handled inside another's handler gets a document of its own.
    const Json::ReusedDocument::Lease nested(reused);
    check(&*nested != &*lease, "a nested lease has its own document");
    check(nested->parse(text, &error), "what Json::Writer writes parses");
    check(written(*nested) == text, "written values read back the same");
    return 0;
}
