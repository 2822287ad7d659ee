// SPDX-License-Identifier: GPL-3.0-or-later
// Redactor::redact() with the built-in rules on any text: it reports a change only
// with a marker in the result, keeps valid UTF-8 valid, and redacting twice changes
// nothing more (all promised in redactor.h and redactor.cpp). Then the text's lines
// go through one Redactor::Stream, as a console's would.
#include "fuzz/fuzzcheck.h"
#include "server/engine/redactor.h"

#include <cstdint>

using Fuzz::check;

namespace {

// The lines of text, split at '\n', through one Stream. What a Stream adds only
// ever turns a whole line into the marker or redacts what precedes an END line,
// so on a line outside a private key it must give what the stateless call gives,
// and its outputs, redacted again with or without a (fresh) Stream, stay as they
// are: the state the outputs leave equals the state the lines left.
void checkStream(const Redactor& redactor, QByteArrayView text)
{
    const QByteArray untouched = "untouched";
    Redactor::Stream stream;
    Redactor::Stream again;
    qsizetype begin = 0;
    while (begin <= text.size()) {
        qsizetype end = text.indexOf('\n', begin);
        if (end < 0)
            end = text.size();
        const QByteArrayView line = text.sliced(begin, end - begin);
        begin = end + 1;

        const bool inKey = stream.inPrivateKey;
        QByteArray out = untouched;
        const bool changed = redactor.redact(line, &out, &stream);
        if (changed) {
            check(out.contains(Redactor::Marker), "a redacted line holds the marker");
            check(out != line, "a redacted line differs");
        } else {
            check(out == untouched, "a line without a secret leaves the output alone");
            out = line.toByteArray();
        }
        check(!Fuzz::isWellFormedUtf8(line) || Fuzz::isWellFormedUtf8(out), "valid UTF-8 lines stay valid");
        if (!inKey) {
            QByteArray stateless = untouched;
            if (!redactor.redact(line, &stateless))
                stateless = line.toByteArray();
            check(stateless == out, "outside a private key a Stream changes nothing");
        }
        QByteArray twice = untouched;
        check(!redactor.redact(out, &twice), "a redacted line redacted again without a Stream stays");
        check(!redactor.redact(out, &twice, &again), "redacted lines through a fresh Stream stay");
        check(again.inPrivateKey == stream.inPrivateKey, "redacted lines leave the same state");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static const Redactor redactor;
    const QByteArrayView text(reinterpret_cast<const char*>(data), qsizetype(size));
    checkStream(redactor, text);
    const QByteArray untouched = "untouched";
    QByteArray out = untouched;
    if (!redactor.redact(text, &out)) {
        check(out == untouched, "text without a secret leaves the output alone");
        return 0;
    }
    check(out.contains(Redactor::Marker), "redacted text holds the marker");
    check(out != text, "redacted text differs");
    check(!Fuzz::isWellFormedUtf8(text) || Fuzz::isWellFormedUtf8(out), "valid UTF-8 stays valid");
    QByteArray twice = untouched;
    check(!redactor.redact(out, &twice) || twice == out, "redacting twice changes nothing");
    // Text that lives in the output buffer itself, as Ingest passes it.
    QByteArray aliased = text.toByteArray();
    check(redactor.redact(aliased, &aliased) && aliased == out, "redacting text in place gives the same result");
    return 0;
}
