// SPDX-License-Identifier: GPL-3.0-or-later
// OutputSplitter on a child's stdout and stderr arriving in pieces of random sizes,
// with a small line limit. Lines and the unfinished line are valid UTF-8 without a
// newline, no longer than the header allows; memory stays bounded; and the lines do
// not depend on how the bytes were split into pieces: they are the lines a splitter
// gives for the same bytes fed whole.
#include "fuzz/fuzzcheck.h"
#include "server/launcher/outputsplitter.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <vector>

namespace {

using Fuzz::check;

// The longest a line may be: every kept byte a replacement character, and the marker.
qsizetype longestLine(qsizetype maxLineBytes)
{
    return 3 * (maxLineBytes + 1) + OutputSplitter::CutMarker.size() + 40;
}

void checkLine(QByteArrayView line, qsizetype maxLineBytes)
{
    check(Fuzz::isWellFormedUtf8(line), "lines are valid UTF-8");
    check(!line.contains('\n'), "lines hold no newline");
    check(line.size() <= longestLine(maxLineBytes), "lines are cut");
}

// One stream: the splitter under test, fed in pieces, and what it was fed since it
// last finished, to feed whole to a second splitter.
struct Stream
{
    explicit Stream(qsizetype maxLineBytes)
        : pieces(maxLineBytes)
        , whole(maxLineBytes)
    { }

    void feed(QByteArrayView data)
    {
        pieces.feed(data, [this](QByteArrayView line) { take(line); });
        unfinished.append(data);
    }

    void finish()
    {
        pieces.finish([this](QByteArrayView line) { take(line); });
        // The whole stream fed at once in a second splitter gives the same lines.
        std::vector<QByteArray> expected;
        whole.feed(unfinished, [&expected](QByteArrayView line) { expected.push_back(line.toByteArray()); });
        whole.finish([&expected](QByteArrayView line) { expected.push_back(line.toByteArray()); });
        check(expected == lines, "lines do not depend on how the output was split into pieces");
        unfinished.clear();
        lines.clear();
    }

    void take(QByteArrayView line)
    {
        checkLine(line, pieces.maxLineBytes());
        lines.push_back(line.toByteArray());
    }

    // The unfinished line shows what finishing now would hand out, up to the cut marker.
    void checkPartial()
    {
        OutputSplitter copy = pieces;
        QByteArray finished;
        copy.finish([&finished](QByteArrayView line) { finished = line.toByteArray(); });
        const bool had = pieces.hasPartial();
        const QByteArray partial = pieces.partial().toByteArray();
        check(!pieces.partialChanged(), "partial() clears partialChanged()");
        check(had || partial.isEmpty(), "there is no partial line without bytes after the last newline");
        checkLine(partial, pieces.maxLineBytes());
        check(finished.startsWith(partial), "the unfinished line is the start of the line it becomes");
    }

    OutputSplitter pieces;
    OutputSplitter whole;
    QByteArray unfinished;
    std::vector<QByteArray> lines;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    // Piece sizes and choices come from the end of the input, the bytes from its start.
    FuzzedDataProvider input(data, size);
    const qsizetype maxLineBytes = input.ConsumeIntegralInRange<qsizetype>(OutputSplitter::MinimumMaxLineBytes, 512);
    Stream streams[2] = {Stream(maxLineBytes), Stream(maxLineBytes)};
    while (input.remaining_bytes() > 0) {
        const quint8 control = input.ConsumeIntegral<quint8>();
        Stream& stream = streams[control & 1];
        const size_t length = (control >> 1) < 96 ? (control >> 1) : input.ConsumeIntegralInRange<size_t>(0, 4096);
        const std::vector<char> bytes = input.ConsumeBytes<char>(length);
        stream.feed(QByteArrayView(bytes.data(), qsizetype(bytes.size())));
        check(stream.pieces.bufferCapacity() <= 8 * (maxLineBytes + 1) + 1024, "memory stays bounded");
        switch (control % 7) {
        case 0:
            stream.checkPartial();
            break;
        case 1:
            if (control > 240)
                stream.finish();
            break;
        default:
            break;
        }
    }
    for (Stream& stream : streams) {
        stream.checkPartial();
        stream.finish();
    }
    return 0;
}
