// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringView>
#include <memory>
#include <vector>

/*
 * A strict (RFC 8259) JSON reader and a writer that work on UTF-8 bytes.
 *
 * The protocol's hot path parses tens of thousands of messages a second; going
 * through QJsonDocument would mean a UTF-16 copy of every string and one heap
 * node per value. Json::Document parses into a flat node array instead, and
 * strings without escapes are views into the source bytes.
 */
namespace Json {

enum class Type : quint8 { Undefined, Null, Bool, Number, String, Array, Object };

class Document;
class Range;

/// A handle to one value of a Document. Cheap to copy; valid while its Document lives.
class Value
{
public:
    Value() = default;

    Type type() const;
    bool isUndefined() const { return type() == Type::Undefined; }
    bool isNull() const { return type() == Type::Null; }
    bool isBool() const { return type() == Type::Bool; }
    bool isNumber() const { return type() == Type::Number; }
    bool isString() const { return type() == Type::String; }
    bool isArray() const { return type() == Type::Array; }
    bool isObject() const { return type() == Type::Object; }

    bool toBool(bool defaultValue = false) const;
    double toDouble(double defaultValue = 0) const;
    /// True for a number written without fraction or exponent that fits in qint64.
    bool isInteger() const;
    qint64 toInteger(qint64 defaultValue = 0) const;
    /// The unescaped UTF-8 bytes of a string; empty for other types.
    QByteArrayView toUtf8() const;
    QString toString(const QString& defaultValue = {}) const;

    /// Elements of an array or members of an object.
    qsizetype size() const;
    /// The member named key of an object (the first one if repeated); Undefined when absent.
    Value operator[](QByteArrayView key) const;
    Value operator[](const char* key) const { return (*this)[QByteArrayView(key)]; }
    /// The elements of an array, or the member values of an object, in order.
    Range items() const;
    /// For a member value of an object: its key (unescaped UTF-8).
    QByteArrayView key() const;
    /// The exact source text of this value.
    QByteArrayView raw() const;

private:
    friend class Document;
    friend class Range;
    Value(const Document* doc, quint32 index)
        : m_doc(doc)
        , m_index(index)
    { }

    const Document* m_doc = nullptr;
    quint32 m_index = 0;
};

/// Forward iteration over the children of an array or object.
class Range
{
public:
    class iterator
    {
    public:
        Value operator*() const { return Value(m_doc, m_index); }
        iterator& operator++();
        bool operator!=(const iterator& other) const { return m_index != other.m_index; }
        bool operator==(const iterator& other) const { return m_index == other.m_index; }

    private:
        friend class Range;
        iterator(const Document* doc, quint32 index)
            : m_doc(doc)
            , m_index(index)
        { }
        const Document* m_doc;
        quint32 m_index;
    };

    iterator begin() const { return iterator(m_doc, m_first); }
    iterator end() const { return iterator(m_doc, m_end); }

private:
    friend class Value;
    Range(const Document* doc, quint32 first, quint32 end)
        : m_doc(doc)
        , m_first(first)
        , m_end(end)
    { }
    const Document* m_doc = nullptr;
    quint32 m_first = 0;
    quint32 m_end = 0;
};

/// A parsed JSON text. Keeps a shallow (implicitly shared) copy of its source.
class Document
{
public:
    Document() = default;
    Q_DISABLE_COPY_MOVE(Document)

    /// Parses utf8. On failure returns false, root() is Undefined, and error
    /// and errorOffset() say what is wrong and where (a byte offset).
    bool parse(const QByteArray& utf8, QString* error = nullptr);
    Value root() const;
    qsizetype errorOffset() const { return m_errorOffset; }

    /// Nesting deeper than this is an error.
    static constexpr int MaxDepth = 128;

private:
    friend class Value;
    friend class Range;
    class Parser;

    struct Span
    {
        quint32 offset;
        quint32 length;
    };
    // One value, in pre-order. Fixed-size and trivially copyable so that a
    // parse appends to a vector whose capacity survives from the last parse.
    struct Node
    {
        Span raw; // the value's source text in m_source
        Span key; // for object members, in m_source or (KeyEscaped) m_unescaped
        quint32 next; // index just past this value's subtree: the next sibling
        Type type;
        quint8 flags;
        union
        {
            qint64 integer; // Number with the Integer flag
            Span string; // content, in m_source or (StringEscaped) m_unescaped
            quint32 count; // Array and Object: number of children
        };
    };
    enum NodeFlag : quint8 { Member = 1, KeyEscaped = 2, StringEscaped = 4, Integer = 8, True = 16 };

    const Node* node(quint32 index) const { return index < m_nodes.size() ? &m_nodes[index] : nullptr; }
    QByteArrayView bytes(Span span, bool escaped) const
    {
        return QByteArrayView((escaped ? m_unescaped : m_source).constData() + span.offset, span.length);
    }

    QByteArray m_source;
    std::vector<Node> m_nodes;
    QByteArray m_unescaped; // storage for strings that contained escapes
    qsizetype m_errorOffset = -1;
};

/// One Document reused from message to message so that its buffers keep their
/// capacity. Parsing into it goes through a Lease; a lease taken while another
/// is held (a message handled from inside another message's handler) gets a
/// document of its own, so the outer message's values stay valid.
class ReusedDocument
{
public:
    ReusedDocument() = default;
    Q_DISABLE_COPY_MOVE(ReusedDocument)

    class Lease
    {
    public:
        explicit Lease(ReusedDocument& owner);
        ~Lease();
        Q_DISABLE_COPY_MOVE(Lease)

        Document& operator*() const { return *m_doc; }
        Document* operator->() const { return m_doc; }

    private:
        ReusedDocument* m_owner; // null for a nested lease
        std::unique_ptr<Document> m_own;
        Document* m_doc;
    };

    /// Leases that had to use a document of their own.
    int nestedLeases() const { return m_nested; }

private:
    Document m_doc;
    bool m_leased = false;
    int m_nested = 0;
};

/// Appends s as a quoted JSON string. s must be valid UTF-8.
void appendString(QByteArray& out, QByteArrayView utf8);
void appendString(QByteArray& out, QStringView s);
void appendInteger(QByteArray& out, qint64 value);
/// Appends the shortest text that reads back as value; null for NaN and infinities.
void appendDouble(QByteArray& out, double value);

/// The most bytes writeString() writes for a string of utf8Size bytes.
constexpr qsizetype maxStringSize(qsizetype utf8Size)
{
    return utf8Size * 6 + 2;
}
/// Writes utf8 as a quoted JSON string at out, which has room for maxStringSize()
/// bytes, and returns the end. For building large messages without per-piece appends.
char* writeString(char* out, QByteArrayView utf8);
/// Writes value in decimal at out (room for 20 bytes) and returns the end.
char* writeInteger(char* out, qint64 value);

/// Writes one JSON text into a QByteArray, placing commas and colons itself.
class Writer
{
public:
    explicit Writer(QByteArray* out)
        : m_out(out)
    { }

    Writer& beginObject();
    Writer& endObject();
    Writer& beginArray();
    Writer& endArray();
    /// The key of the next member of the current object.
    Writer& key(QByteArrayView utf8);
    Writer& string(QByteArrayView utf8);
    Writer& string(QStringView s);
    Writer& string(const char* utf8) { return string(QByteArrayView(utf8)); }
    Writer& string(const QByteArray& utf8) { return string(QByteArrayView(utf8)); }
    Writer& string(const QString& s) { return string(QStringView(s)); }
    Writer& integer(qint64 value);
    Writer& number(double value);
    Writer& boolean(bool value);
    Writer& null();
    /// Inserts an already serialized JSON value as it is.
    Writer& raw(QByteArrayView json);

private:
    void separate();

    QByteArray* m_out;
    bool m_needComma = false;
    bool m_afterKey = false;
};

} // namespace Json
