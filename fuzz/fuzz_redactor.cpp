// SPDX-License-Identifier: GPL-3.0-or-later
// Redactor::redact() with the built-in rules on any text: it reports a change only
// with a marker in the result, keeps valid UTF-8 valid, and redacting twice changes
// nothing more (all promised in redactor.h and redactor.cpp).
#include "fuzz/fuzzcheck.h"
#include "server/engine/redactor.h"

#include <cstdint>

using Fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static const Redactor redactor;
    const QByteArrayView text(reinterpret_cast<const char*>(data), qsizetype(size));
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
