# SPDX-License-Identifier: GPL-3.0-or-later
"""What an agent has to send: numbered items kept for a resend, and one-off messages.

Console lines (``log``) and forum messages (``forum``) are numbered per kind with
``seq`` and kept in a bounded buffer after they were written, because a host that
went away may not have stored them. After a reconnect the host's ``welcome`` says
the last number it has (``resume_from``); everything above it is written again,
everything at or below it is forgotten. When the buffer is full the oldest items
go first; an item dropped before it was ever written leaves a hole in the numbers,
which the host records as a ``gap`` with reason ``agent_dropped``: nothing is lost
silently.

Other messages (``status``, ``metrics``, ``ask``, ``result``, partial lines) are not
numbered; they are sent once, in the order they were made relative to the numbered
items, and only on the connection they were made for. The :class:`Outbox` is
shared by any number of producing threads and the one asyncio task that sends.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from typing import Deque, Dict, List, Mapping, Optional, Tuple

KINDS = ("log", "forum")
_MESSAGE_KEY = {"log": "lines", "forum": "messages"}


def dumps(value: object) -> str:
    """Compact JSON as the host parses it: UTF-8, no NaN or infinity."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class _Item:
    __slots__ = ("kind", "seq", "body", "size", "order", "sent")

    def __init__(self, kind: str, seq: int, body: str, order: int) -> None:
        self.kind = kind
        self.seq = seq
        self.body = body  # the item's JSON object without "seq"
        self.size = len(body.encode("utf-8")) + 24
        self.order = order
        self.sent = False

    def json(self) -> str:
        return '{"seq":%d,%s' % (self.seq, self.body[1:]) if len(self.body) > 2 else '{"seq":%d}' % self.seq


class _Control:
    __slots__ = ("order", "json")

    def __init__(self, order: int, text: Optional[str]) -> None:
        self.order = order
        self.json = text  # None: superseded by a newer partial line, skipped


class Outbox:
    """The numbered buffer and the queue of one-off messages of one agent.

    ``max_items`` and ``max_bytes`` bound the numbered items kept (written or not);
    the newest item is always kept, whatever its size.
    """

    def __init__(self, max_items: int = 10000, max_bytes: int = 8 * 1024 * 1024) -> None:
        if max_items < 1 or max_bytes < 1:
            raise ValueError("the buffer needs room for at least one item")
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._items: Deque[_Item] = deque()
        self._sent_count = 0  # the written items, all at the front of _items
        self._bytes = 0
        self._next_seq = {kind: 1 for kind in KINDS}
        self._sent_upto = {kind: 0 for kind in KINDS}  # the highest number written in this numbering
        # The highest number the host is known to have read (its resume_from, or a
        # pong to a ping written after the item); not a promise that it was stored.
        self._acked_upto = {kind: 0 for kind in KINDS}
        # Runs [first, last] of written items the full buffer let go before the host
        # acknowledged them: lost if the next welcome says the host does not have them.
        self._evicted_unacked: Dict[str, List[List[int]]] = {kind: [] for kind in KINDS}
        self._history: Optional[str] = None  # host.id of the history our numbers belong to
        self._dropped = {kind: 0 for kind in KINDS}
        self._unreported_drops = 0
        self._control: Deque[_Control] = deque()
        self._partials: Dict[str, _Control] = {}
        self._sticky: Dict[str, str] = {}  # the latest status and the open questions
        self._online = False
        self._order = 0

    # -- producers (any thread) -------------------------------------------------

    def add(self, kind: str, fields: Mapping[str, object]) -> int:
        """Numbers an item (``fields`` without ``seq``) and keeps it; returns its number."""
        body = dumps(fields)
        with self._lock:
            seq = self._next_seq[kind]
            self._next_seq[kind] = seq + 1
            self._order += 1
            item = _Item(kind, seq, body, self._order)
            self._items.append(item)
            self._bytes += item.size
            while len(self._items) > 1 and (len(self._items) > self.max_items or self._bytes > self.max_bytes):
                old = self._items.popleft()
                self._bytes -= old.size
                if old.sent:
                    self._sent_count -= 1
                    if old.seq > self._acked_upto[old.kind]:
                        runs = self._evicted_unacked[old.kind]
                        if runs and runs[-1][1] + 1 == old.seq:
                            runs[-1][1] = old.seq
                        else:
                            runs.append([old.seq, old.seq])
                else:
                    self._dropped[old.kind] += 1
                    self._unreported_drops += 1
            return seq

    def add_control(self, message: Mapping[str, object], *, partial_stream: Optional[str] = None) -> bool:
        """Queues a one-off message for the current connection; False (and nothing
        queued) while offline. A partial line replaces one of the same stream that is
        still waiting: in place when nothing was queued after it, else the waiting one
        is skipped and the new one queued last, so it never overtakes a complete line."""
        text = dumps(message)
        with self._lock:
            if not self._online:
                return False
            if partial_stream is not None:
                waiting = self._partials.get(partial_stream)
                if waiting is not None:
                    if waiting.order == self._order:
                        waiting.json = text
                        return True
                    waiting.json = None
            self._order += 1
            entry = _Control(self._order, text)
            self._control.append(entry)
            if partial_stream is not None:
                self._partials[partial_stream] = entry
            return True

    def set_sticky(self, key: str, message: Mapping[str, object]) -> None:
        """Keeps a message that every new connection must get again (the latest
        ``status``, an open ``ask``) and queues it now when online."""
        text = dumps(message)
        with self._lock:
            self._sticky[key] = text
            if self._online:
                self._order += 1
                self._control.append(_Control(self._order, text))

    def remove_sticky(self, key: str) -> None:
        """Forgets a message kept by :meth:`set_sticky`."""
        with self._lock:
            self._sticky.pop(key, None)

    # -- the connection (the sending task) ---------------------------------------

    def connected(self, history: str, resume_from: Mapping[str, object]) -> None:
        """A ``welcome`` arrived: forgets what the host has, renumbers when the
        numbering starts over, marks the rest for a resend and queues the kept
        messages (the latest status, the open questions) after it.

        Another history (a new ``host.id``: the host lost its state) gets what it
        may not have seen: the items written after the last one the previous host
        acknowledged, then the unwritten ones, numbered after the new host's last.
        Holes left by a full buffer stay holes, so the host reports them as a gap."""
        with self._lock:
            new_history = self._history is None or history != self._history
            resume: Dict[str, int] = {}
            renumber: Dict[str, bool] = {}
            shift: Dict[str, int] = {}
            keep_after: Dict[str, int] = {}
            for kind in KINDS:
                value = resume_from.get(kind, 0) if isinstance(resume_from, Mapping) else 0
                have = value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
                resume[kind] = have
                if new_history:
                    keep_after[kind] = self._acked_upto[kind]
                elif have > self._sent_upto[kind]:
                    # Numbers we never wrote (another process with our id): what was
                    # never written continues after the host's.
                    keep_after[kind] = self._sent_upto[kind]
                else:
                    keep_after[kind] = have
                renumber[kind] = new_history or have > self._sent_upto[kind]
                shift[kind] = have - keep_after[kind]
                # Written items the buffer let go that the host turns out not to have
                # (another history: that it had not acknowledged).
                has = keep_after[kind] if new_history else have
                lost = sum(last - max(first - 1, has) for first, last in self._evicted_unacked[kind] if last > has)
                self._evicted_unacked[kind] = []
                self._dropped[kind] += lost
                self._unreported_drops += lost
            kept: Deque[_Item] = deque()
            size = 0
            for item in self._items:
                kind = item.kind
                if renumber[kind]:
                    if item.seq <= keep_after[kind]:
                        continue
                    item.seq += shift[kind]
                elif item.seq <= resume[kind]:
                    continue
                item.sent = False
                kept.append(item)
                size += item.size
            self._items = kept
            self._bytes = size
            self._sent_count = 0
            for kind in KINDS:
                if renumber[kind]:
                    self._next_seq[kind] += shift[kind]
                self._sent_upto[kind] = resume[kind]
                self._acked_upto[kind] = resume[kind]
            self._history = history
            self._control.clear()
            self._partials.clear()
            for text in self._sticky.values():
                self._order += 1
                self._control.append(_Control(self._order, text))
            self._online = True

    def disconnected(self) -> None:
        """The connection ended: one-off messages made for it are dropped."""
        with self._lock:
            self._online = False
            self._control.clear()
            self._partials.clear()

    def next_message(self, max_items: int = 1000, max_bytes: int = 256 * 1024) -> Optional[str]:
        """The next message to write, or None when there is nothing; numbered items
        taken are marked written (a batch of one kind, in order)."""
        with self._lock:
            while self._control and self._control[0].json is None:
                self._control.popleft()
            first_unsent = self._items[self._sent_count] if self._sent_count < len(self._items) else None
            control = self._control[0] if self._control else None
            if first_unsent is not None and (control is None or first_unsent.order < control.order):
                kind = first_unsent.kind
                limit_order = control.order if control is not None else None
                parts: List[str] = []
                size = 0
                index = self._sent_count
                while index < len(self._items) and len(parts) < max_items:
                    item = self._items[index]
                    if item.kind != kind or (limit_order is not None and item.order > limit_order):
                        break
                    if parts and size + item.size > max_bytes:
                        break
                    parts.append(item.json())
                    size += item.size
                    item.sent = True
                    self._sent_upto[kind] = item.seq
                    index += 1
                self._sent_count = index
                return '{"type":"%s","%s":[%s]}' % (kind, _MESSAGE_KEY[kind], ",".join(parts))
            if control is not None:
                self._control.popleft()
                for stream, entry in list(self._partials.items()):
                    if entry is control:
                        del self._partials[stream]
                return control.json
            return None

    def written_numbers(self) -> Dict[str, int]:
        """The highest number written on this connection, per kind (for
        :meth:`acknowledge` once the host answered a ping sent after them)."""
        with self._lock:
            return dict(self._sent_upto)

    def acknowledge(self, numbers: Mapping[str, int]) -> None:
        """The host has read the items up to these numbers (a pong came back)."""
        with self._lock:
            for kind, seq in numbers.items():
                if seq <= self._sent_upto[kind]:
                    self._acked_upto[kind] = max(self._acked_upto[kind], seq)
                    acked = self._acked_upto[kind]
                    self._evicted_unacked[kind] = [[max(first, acked + 1), last]
                                                   for first, last in self._evicted_unacked[kind] if last > acked]

    def mark(self) -> int:
        """A mark of everything queued so far, for :meth:`written_through`."""
        with self._lock:
            return self._order

    def written_through(self, mark: int) -> bool:
        """Whether everything queued up to ``mark`` has been taken for writing on the
        current connection (numbered items written before a reconnect count again
        until they are written anew or the host has them)."""
        with self._lock:
            if not self._online:
                return False
            if self._sent_count < len(self._items) and self._items[self._sent_count].order <= mark:
                return False
            return not any(entry.json is not None and entry.order <= mark for entry in self._control)

    # -- state -----------------------------------------------------------------

    def pending(self) -> int:
        """How many items and messages wait to be written."""
        with self._lock:
            return len(self._items) - self._sent_count + len(self._control)

    def dropped(self) -> Dict[str, int]:
        """Items the full buffer let go that the host never got, per kind: those
        never written, and written ones a reconnect showed the host did not have."""
        with self._lock:
            return dict(self._dropped)

    def take_unreported_drops(self) -> int:
        """Drops since the last call (for a warning in the program's own log)."""
        with self._lock:
            count, self._unreported_drops = self._unreported_drops, 0
            return count

    def numbers(self) -> Tuple[Dict[str, int], Dict[str, int]]:
        """The next number and the highest number written, per kind (for tests and
        diagnostics)."""
        with self._lock:
            return dict(self._next_seq), dict(self._sent_upto)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
