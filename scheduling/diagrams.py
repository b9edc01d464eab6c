"""Geometry of the schedule drawings: the double-code network diagram and the Gantt chart.

Pure Python (no Django): the functions take plain data and return coordinates; the
application page draws them as SVG. Deterministic: the same input gives the same drawing.

The network diagram is a layered (Sugiyama) drawing of the activity-on-arrow network:
each event goes to the column of its longest-path rank from the start events, an arc that
spans several columns is routed through one waypoint per column it crosses (so it never
passes through an event circle), and the rows within each column are ordered by repeated
barycentre sweeps, keeping the order with the fewest crossings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta


class DiagramError(Exception):
    """The arcs do not form a network that can be drawn (a cycle, a loop, a repeated arc)."""

    def __init__(self, message: str, events: Sequence[int] = ()) -> None:
        super().__init__(message)
        self.events = tuple(events)


# --- The double-code (activity-on-arrow) network diagram ------------------------------------


@dataclass(frozen=True)
class Arc:
    """One arrow of the network: an activity i-j, or a dummy (dashed, no duration)."""

    tail: int
    head: int
    code: str = ""
    name: str = ""
    duration: int = 0
    dummy: bool = False
    critical: bool = False


@dataclass(frozen=True)
class PlacedEvent:
    number: int
    x: float
    y: float
    layer: int
    row: int
    critical: bool
    early: int = 0  # ET: the earliest time of the event, in working days from the start
    late: int = 0  # LT: the latest time it may happen without delaying the finish


@dataclass(frozen=True)
class PlacedArc:
    arc: Arc
    points: tuple[tuple[float, float], ...]  # from the tail circle's edge to the head's
    label_x: float
    label_y: float
    name_lines: tuple[str, ...]

    @property
    def path(self) -> str:
        """Return the SVG path data of the arrow."""
        first, *rest = self.points
        return f"M{first[0]:.1f},{first[1]:.1f}" + "".join(f" L{x:.1f},{y:.1f}" for x, y in rest)

    @property
    def caption(self) -> str:
        """Return the text under the arrow: the code and the duration."""
        if self.arc.dummy:
            return ""
        return f"{self.arc.code} ({self.arc.duration})"


@dataclass(frozen=True)
class NetworkDiagram:
    events: tuple[PlacedEvent, ...]
    arcs: tuple[PlacedArc, ...]
    width: float
    height: float
    radius: float
    crossings: int

    def event(self, number: int) -> PlacedEvent:
        return next(e for e in self.events if e.number == number)


# Terms of the trade a label is never broken inside, longest first where one holds another.
DOMAIN_TERMS = tuple(
    sorted(
        {
            "业扩报装",
            "受电工程",
            "供电方案",
            "接入系统",
            "用电申请",
            "现场勘查",
            "竣工检验",
            "中间检查",
            "设计审查",
            "图纸审查",
            "装表接电",
            "电能计量",
            "计量装置",
            "业务受理",
            "高压",
            "低压",
            "供电",
            "方案",
            "答复",
            "审查",
            "审核",
            "施工",
            "土建",
            "安装",
            "竣工",
            "检验",
            "检查",
            "验收",
            "装表",
            "接电",
            "送电",
            "停电",
            "勘查",
            "受理",
            "设计",
            "图纸",
            "费用",
            "缴费",
            "收费",
            "合同",
            "签订",
            "客户",
            "配套",
            "工程",
            "电气",
            "设备",
            "调试",
            "计量",
            "申请",
            "资料",
            "评审",
            "会议",
            "外线",
            "线路",
            "变电",
            "配电",
            "电缆",
            "架空",
            "可研",
            "批复",
            "意见",
            "办理",
            "需求",
            "手续",
            "用户",
            "联合",
            "现场",
            "接入",
            "系统",
            "委托",
            "调度",
            "协议",
            "启动",
            "电网",
            "缴纳",
            "业务",
            "投运",
            "归档",
            "回访",
        },
        key=lambda term: (-len(term), term),
    )
)
_OPENING = "（([【《“「"
_CLOSING = "）)]】》”」"
# Marks a line may end with but never start with: the break falls after them.
_TRAILING = _CLOSING + "，、；：。！？,;:.!?/·-"
ELLIPSIS = "…"


def text_width(text: str) -> float:
    """Return the width of ``text`` in Chinese characters (a Latin character is half one)."""
    return sum(0.5 if ord(ch) < 0x2E80 and ch != ELLIPSIS else 1.0 for ch in text)


def _label_tokens(text: str) -> list[str]:
    """Return the pieces of a label no line break may fall inside: a bracketed group, a
    domain term, a Latin word or number, a single character; a space is its own piece, and
    punctuation sticks to the piece before it."""
    tokens: list[str] = []
    pending = ""  # opening brackets waiting for the word they open
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            while i < len(text) and text[i].isspace():
                i += 1
            if tokens and tokens[-1] != " ":
                tokens.append(" ")
            continue
        if ch in _OPENING and pending:
            pending += ch
            i += 1
            continue
        if ch in _OPENING:
            depth, j = 0, i
            while j < len(text):
                if text[j] in _OPENING:
                    depth += 1
                elif text[j] in _CLOSING:
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if j < len(text) and not (text[i:j].isascii() or any(c.isspace() for c in text[i:j])):
                tokens.append(pending + text[i : j + 1])
                pending = ""
                i = j + 1
                continue
            if j < len(text):
                # Latin words in brackets break like any words; the bracket stays with
                # the word it opens.
                pending += ch
                i += 1
                continue
        if ch in _TRAILING and tokens and tokens[-1] != " ":
            tokens[-1] += ch
            i += 1
            continue
        term = next((t for t in DOMAIN_TERMS if text.startswith(t, i)), None)
        if term:
            piece = term
        elif ch.isascii() and ch.isalnum():
            j = i
            while j < len(text) and text[j].isascii() and (text[j].isalnum() or text[j] in "_."):
                j += 1
            if j < len(text) and text[j] == "-":
                j += 1  # a hyphenated word may break after its hyphen
            piece = text[i:j]
        else:
            piece = ch
        tokens.append(pending + piece)
        pending = ""
        i += len(piece)
    if pending:
        tokens.append(pending)
    while tokens and tokens[-1] == " ":
        tokens.pop()
    return tokens


def _breakable(token: str) -> bool:
    """Return whether a piece too wide for a line may be cut: Chinese may, a bracketed
    group or a Latin word may not (it runs over the line instead)."""
    return token[0] not in _OPENING and not (token[0].isascii() and token[0].isalnum())


def _fit(text: str, width: float) -> str:
    """Return the longest start of ``text`` no wider than ``width`` (at least one character)."""
    end = 1
    while end < len(text) and text_width(text[: end + 1]) <= width:
        end += 1
    return text[:end]


def wrap_label(text: str, width: int, max_lines: int | None = None) -> tuple[str, ...]:
    """Return a label in lines of at most ``width`` Chinese characters, broken between words.

    Chinese has no spaces: a line breaks between the domain terms of ``DOMAIN_TERMS``, after
    punctuation and around bracketed groups, which are never split (a group wider than a
    line gets a line of its own, and so does a Latin word). A Chinese run wider than a line
    is cut, as nothing else can hold it. With ``max_lines``, a label needing more lines is
    cut short and ends with "…"; the caller keeps the full name in a tooltip.
    """
    lines: list[str] = []
    current = ""
    for token in _label_tokens(text.strip()):
        if token == " ":
            if current:
                current += " "
            continue
        if current.strip():
            fits = text_width(current + token) <= width
        else:
            fits = text_width(token) <= width or not _breakable(token)
        if fits:
            current += token
            continue
        if current.strip():
            lines.append(current.rstrip())
            current = ""
        while text_width(token) > width and _breakable(token):
            piece = _fit(token, width)
            lines.append(piece)
            token = token[len(piece) :]
        current = token
    if current.strip():
        lines.append(current.rstrip())
    if max_lines is not None and len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and text_width(last + ELLIPSIS) > width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + ELLIPSIS]
    return tuple(lines)


def _event_layers(arcs: Sequence[Arc]) -> tuple[list[int], dict[int, int]]:
    """Return the events in topological order and each one's longest-path rank."""
    events = sorted({a.tail for a in arcs} | {a.head for a in arcs})
    outgoing: dict[int, list[int]] = {e: [] for e in events}
    indegree = dict.fromkeys(events, 0)
    seen: set[tuple[int, int]] = set()
    for arc in arcs:
        if arc.tail == arc.head:
            raise DiagramError(
                f"arc {arc.tail}-{arc.head} starts and ends at one event", [arc.tail]
            )
        if (arc.tail, arc.head) in seen:
            raise DiagramError(
                f"two arcs join event {arc.tail} to {arc.head}", [arc.tail, arc.head]
            )
        seen.add((arc.tail, arc.head))
        outgoing[arc.tail].append(arc.head)
        indegree[arc.head] += 1
    ready = sorted(e for e in events if indegree[e] == 0)
    order: list[int] = []
    layer = dict.fromkeys(events, 0)
    while ready:
        event = ready.pop(0)
        order.append(event)
        for head in sorted(outgoing[event]):
            layer[head] = max(layer[head], layer[event] + 1)
            indegree[head] -= 1
            if indegree[head] == 0:
                ready.append(head)
                ready.sort()
    if len(order) != len(events):
        stuck = sorted(e for e in events if indegree[e] > 0)
        raise DiagramError(f"the arcs form a cycle through events {stuck}", stuck)
    return order, layer


def event_times(arcs: Sequence[Arc]) -> dict[int, tuple[int, int]]:
    """Return each event's (ET, LT) in working days: the node method of the double-code
    network. ET of a start event is 0 and ET(j) = max(ET(i) + D(i-j)) over the arcs into j;
    LT of a finish event is the project's length T = max ET, and LT(i) = min(LT(j) - D(i-j))
    over the arcs out of i. An event on the critical path has ET = LT."""
    order, _layer = _event_layers(arcs)
    early = dict.fromkeys(order, 0)
    into: dict[int, list[Arc]] = {e: [] for e in order}
    out_of: dict[int, list[Arc]] = {e: [] for e in order}
    for arc in arcs:
        into[arc.head].append(arc)
        out_of[arc.tail].append(arc)
    for event in order:
        for arc in into[event]:
            early[event] = max(early[event], early[arc.tail] + arc.duration)
    length = max(early.values(), default=0)
    late = dict.fromkeys(order, length)
    for event in reversed(order):
        for arc in out_of[event]:
            late[event] = min(late[event], late[arc.head] - arc.duration)
    return {event: (early[event], late[event]) for event in order}


def _crossings(layers: list[list[object]], edges: list[tuple[object, object]]) -> int:
    position = {node: i for nodes in layers for i, node in enumerate(nodes)}
    layer_of = {node: k for k, nodes in enumerate(layers) for node in nodes}
    by_layer: dict[int, list[tuple[int, int]]] = {}
    for a, b in edges:
        by_layer.setdefault(layer_of[a], []).append((position[a], position[b]))
    total = 0
    for pairs in by_layer.values():
        for i, (a1, b1) in enumerate(pairs):
            for a2, b2 in pairs[i + 1 :]:
                if (a1 - a2) * (b1 - b2) < 0:
                    total += 1
    return total


def network_layout(
    arcs: Iterable[Arc],
    *,
    column_width: float = 96,
    row_height: float = 84,
    radius: float = 14,
    margin: float = 36,
    label_width: int = 5,
    label_lines: int = 3,
    sweeps: int = 8,
) -> NetworkDiagram:
    """Return the positions of the events and the routes of the arcs of an AOA network.

    Each event carries its times (``event_times``); each arc's name is wrapped in at most
    ``label_lines`` lines of ``label_width`` Chinese characters (``wrap_label``).
    """
    arcs = list(arcs)
    if not arcs:
        return NetworkDiagram((), (), 2 * margin, 2 * margin, radius, 0)
    order, layer = _event_layers(arcs)
    times = event_times(arcs)
    depth = max(layer.values()) + 1
    rank = {event: i for i, event in enumerate(order)}

    # Nodes: ("e", number) for events, ("v", arc index, layer) for the waypoints of long arcs.
    layers: list[list[object]] = [[] for _ in range(depth)]
    for event in order:
        layers[layer[event]].append(("e", event))
    chains: list[list[object]] = []
    edges: list[tuple[object, object]] = []
    arc_order = sorted(range(len(arcs)), key=lambda i: (rank[arcs[i].tail], rank[arcs[i].head]))
    for i in arc_order:
        arc = arcs[i]
        chain: list[object] = [("e", arc.tail)]
        for k in range(layer[arc.tail] + 1, layer[arc.head]):
            node = ("v", i, k)
            layers[k].append(node)
            chain.append(node)
        chain.append(("e", arc.head))
        chains.append(chain)
        edges.extend(zip(chain, chain[1:], strict=False))
    chain_of_arc = dict(zip(arc_order, chains, strict=True))

    preds: dict[object, list[object]] = {}
    succs: dict[object, list[object]] = {}
    for a, b in edges:
        succs.setdefault(a, []).append(b)
        preds.setdefault(b, []).append(a)

    def sweep(current: list[list[object]], downward: bool) -> list[list[object]]:
        result = [list(nodes) for nodes in current]
        indices = range(1, depth) if downward else range(depth - 2, -1, -1)
        for k in indices:
            neighbour_layer = result[k - 1] if downward else result[k + 1]
            position = {node: i for i, node in enumerate(neighbour_layer)}
            links = preds if downward else succs
            own = {node: i for i, node in enumerate(result[k])}

            def key(node, position=position, links=links, own=own):
                linked = [position[n] for n in links.get(node, []) if n in position]
                centre = sum(linked) / len(linked) if linked else own[node]
                return (centre, own[node])

            result[k].sort(key=key)
        return result

    best, best_crossings = layers, _crossings(layers, edges)
    current = layers
    for i in range(sweeps):
        current = sweep(current, downward=i % 2 == 0)
        crossings = _crossings(current, edges)
        if crossings < best_crossings:
            best, best_crossings = current, crossings

    coordinates: dict[object, tuple[float, float]] = {}
    rows: dict[object, int] = {}
    for k, nodes in enumerate(best):
        for row, node in enumerate(nodes):
            rows[node] = row
            coordinates[node] = (margin + k * column_width, margin + 18 + row * row_height)

    critical_events = {e for a in arcs if a.critical and not a.dummy for e in (a.tail, a.head)}
    events = tuple(
        PlacedEvent(
            number=event,
            x=coordinates[("e", event)][0],
            y=coordinates[("e", event)][1],
            layer=layer[event],
            row=rows[("e", event)],
            critical=event in critical_events,
            early=times[event][0],
            late=times[event][1],
        )
        for event in order
    )
    placed = []
    bend = column_width * 0.4
    stub = radius + 4
    for i, arc in enumerate(arcs):
        nodes = [coordinates[node] for node in chain_of_arc[i]]
        # A step between rows is a level stub, a slant and a level run: the slant right
        # after the tail for the first step, right before the head for any later one. The
        # level runs carry the labels; the stubs keep every slant clear of the circles
        # standing in the two columns between the rows.
        points = [nodes[0]]
        for k, ((x1, y1), (x2, y2)) in enumerate(zip(nodes, nodes[1:], strict=False)):
            if abs(y1 - y2) > 0.5:
                if k == 0:
                    points += [(x1 + stub, y1), (x1 + bend, y2)]
                else:
                    points += [(x2 - bend, y1), (x2 - stub, y2)]
            points.append((x2, y2))
        points = _without_collinear(points)
        points[0] = _towards(points[0], points[1], radius)
        points[-1] = _towards(points[-1], points[-2], radius + 1)
        segments = list(zip(points, points[1:], strict=False))
        flat = [s for s in segments if abs(s[0][1] - s[1][1]) < 0.5]
        (x1, y1), (x2, y2) = (
            max(flat, key=lambda s: s[1][0] - s[0][0]) if flat else segments[len(segments) // 2]
        )
        placed.append(
            PlacedArc(
                arc=arc,
                points=tuple(points),
                label_x=(x1 + x2) / 2,
                label_y=(y1 + y2) / 2,
                name_lines=() if arc.dummy else wrap_label(arc.name, label_width, label_lines),
            )
        )
    height = max(y for _, y in coordinates.values()) + margin + 18
    width = margin * 2 + (depth - 1) * column_width
    return NetworkDiagram(events, tuple(placed), width, height, radius, best_crossings)


def _without_collinear(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Drop the middle points of straight runs (a long arc's waypoints on one row)."""
    result = [points[0]]
    for point, following in zip(points[1:], points[2:], strict=False):
        (ax, ay), (bx, by), (cx, cy) = result[-1], point, following
        if abs((bx - ax) * (cy - ay) - (by - ay) * (cx - ax)) > 0.5:
            result.append(point)
    result.append(points[-1])
    return result


def _towards(start: tuple[float, float], end: tuple[float, float], distance: float):
    """Return the point ``distance`` from ``start`` on the way to ``end``."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    length = (dx * dx + dy * dy) ** 0.5 or 1.0
    return (start[0] + dx / length * distance, start[1] + dy / length * distance)


# --- The time-scaled (时标) network diagram --------------------------------------------------


@dataclass(frozen=True)
class TimedArc:
    """One arrow of the time-scaled diagram: its work drawn to scale, then its free float."""

    arc: Arc
    work: tuple[tuple[float, float], ...]  # from the tail to the end of the work, to scale
    float_span: tuple[float, float] | None  # where the free float's wavy line runs
    link: tuple[tuple[float, float], ...]  # the drop into the head's row (() when level)
    label_x: float
    label_y: float
    name_lines: tuple[str, ...]
    free_float: int
    compact: bool = False  # too short for its name: the code alone, the name on hover

    @property
    def path(self) -> str:
        return _path(self.work)

    @property
    def wave(self) -> str:
        """Return the SVG path of the free float's wavy line ("" when there is none)."""
        if self.float_span is None:
            return ""
        return wave_path(*self.float_span, self.work[-1][1])

    @property
    def end(self) -> tuple[float, float]:
        """Return where the arrowhead points: at the head event's circle."""
        if self.link:
            return self.link[-1]
        if self.float_span:
            return (self.float_span[1], self.work[-1][1])
        return self.work[-1]

    @property
    def link_path(self) -> str:
        return _path(self.link) if self.link else ""

    @property
    def arrow_on(self) -> str:
        """Return the piece the arrowhead goes on: the last one drawn."""
        return "link" if self.link else "wave" if self.wave else "work"

    @property
    def caption(self) -> str:
        if self.arc.dummy:
            return ""
        return self.arc.code if self.compact else f"{self.arc.code} ({self.arc.duration})"


@dataclass(frozen=True)
class AxisDay:
    x: float
    number: int  # working days from the start
    day: date | None  # its date, when the caller gave a calendar


@dataclass(frozen=True)
class TimeScaledDiagram:
    events: tuple[PlacedEvent, ...]
    arcs: tuple[TimedArc, ...]
    axis: tuple[AxisDay, ...]
    day_width: float
    axis_height: float
    width: float
    height: float
    radius: float
    length: int  # T, the working days from the first event to the last

    def event(self, number: int) -> PlacedEvent:
        return next(e for e in self.events if e.number == number)


def _path(points: Sequence[tuple[float, float]]) -> str:
    first, *rest = points
    return f"M{first[0]:.1f},{first[1]:.1f}" + "".join(f" L{x:.1f},{y:.1f}" for x, y in rest)


def _run_rows(logic, row_of, x_of, *, radius, gap) -> dict[int, int]:
    """Return the row each arrow runs level on (keyed by ``id`` of its arc): the first of
    its tail's row, its head's row, its row in the logic drawing, then the rows below them
    where the run overlaps no other run and passes through no event. Critical arrows
    choose first, then those between events on one row (they need no bend), then by time."""
    runs: dict[int, list[tuple[float, float]]] = {}
    circles: dict[int, list[float]] = {}
    for number, row in row_of.items():
        circles.setdefault(row, []).append(x_of[number])
    last_row = max(row_of.values())
    logic_rows = {e.number: e.row for e in logic.events}
    chosen: dict[int, int] = {}
    ordered = sorted(
        logic.arcs,
        key=lambda p: (
            not p.arc.critical,
            row_of[p.arc.tail] != row_of[p.arc.head],
            x_of[p.arc.tail],
            x_of[p.arc.head],
            p.arc.tail,
        ),
    )
    for placed in ordered:
        arc = placed.arc
        tail, head = row_of[arc.tail], row_of[arc.head]
        xt, xh = x_of[arc.tail], x_of[arc.head]
        drawn = round((placed.label_y - _LOGIC_MARGIN - 18) / _LOGIC_ROW)
        if drawn == logic_rows[arc.tail]:
            drawn = tail
        elif drawn == logic_rows[arc.head]:
            drawn = head
        candidates = [tail, head, drawn, *range(min(tail, head), last_row + len(logic.arcs) + 2)]
        for row in candidates:
            x1 = xt + radius if row == tail else xt + gap
            x2 = xh - radius if row == head else xh - gap
            if xh - xt < 2 * radius:
                break  # drawn vertically, on no row
            if any(a < x2 - 1 and x1 + 1 < b for a, b in runs.get(row, [])):
                continue
            if any(
                x1 - radius < x < x2 + radius for x in circles.get(row, []) if x not in (xt, xh)
            ):
                continue
            if any(x in (xt, xh) for x in circles.get(row, [])) and row not in (tail, head):
                continue
            runs.setdefault(row, []).append((x1, x2))
            chosen[id(arc)] = row
            break
        chosen.setdefault(id(arc), tail)
    return chosen


def wave_path(x1: float, x2: float, y: float, *, step: float = 6, height: float = 3) -> str:
    """Return the SVG path of a wavy line from (x1, y) to (x2, y), the free float's mark."""
    halves = max(1, round((x2 - x1) / step))
    half = (x2 - x1) / halves
    return f"M{x1:.1f},{y:.1f} q{half / 2:.2f},{-height} {half:.2f},0" + f" t{half:.2f},0" * (
        halves - 1
    )


_LOGIC_ROW = 84
_LOGIC_MARGIN = 36
# An arrow shorter than this (in pixels) carries its code only; its name is in the tooltip.
_NAMED_SPAN = 44


def time_scaled_layout(
    arcs: Iterable[Arc],
    *,
    day_width: float = 30,
    row_height: float = 72,
    radius: float = 10,
    margin: float = 30,
    axis_height: float = 40,
    date_of: Callable[[int], date] | None = None,
) -> TimeScaledDiagram:
    """Return the time-scaled drawing of an AOA network: each event at its ET on a working-day
    axis, each arrow's solid part as long as its duration, its free float (ET of the head
    minus the end of the work) as a wavy line, and a vertical drop where the head stands on
    another row. Rows follow the logic diagram (``network_layout``), so parallel paths stay
    apart; an event that would sit on another at the same time moves down a row."""
    arcs = list(arcs)
    if not arcs:
        return TimeScaledDiagram(
            (), (), (), day_width, axis_height, 2 * margin, 2 * margin, radius, 0
        )
    logic = network_layout(arcs, row_height=_LOGIC_ROW, margin=_LOGIC_MARGIN)
    times = {e.number: (e.early, e.late) for e in logic.events}
    length = max(early for early, _late in times.values())

    def x_of(day: int) -> float:
        return margin + day * day_width

    def y_of(row: int) -> float:
        return axis_height + margin + row * row_height

    # Each event keeps its logic row unless an event drawn earlier stands too close on it.
    taken: dict[int, list[float]] = {}
    row_of: dict[int, int] = {}
    for placed in sorted(logic.events, key=lambda e: (e.early, e.row, e.number)):
        row = placed.row
        while any(abs(x - x_of(placed.early)) < 2 * radius + 8 for x in taken.get(row, [])):
            row += 1
        taken.setdefault(row, []).append(x_of(placed.early))
        row_of[placed.number] = row
    events = tuple(
        PlacedEvent(
            number=e.number,
            x=x_of(e.early),
            y=y_of(row_of[e.number]),
            layer=e.layer,
            row=row_of[e.number],
            critical=e.critical,
            early=e.early,
            late=e.late,
        )
        for e in logic.events
    )
    position = {e.number: (e.x, e.y) for e in events}
    # An arrow runs level on the row its logic drawing gave its longest level run, so the
    # arrows out of one event keep the rows they had there.
    # Events stand on a grid of days; a vertical piece halfway between two days of the grid
    # (``gap`` right of an event) passes clear of every circle.
    gap = day_width / 2
    run_row = _run_rows(logic, row_of, {e.number: e.x for e in events}, radius=radius, gap=gap)
    timed = []
    for placed in logic.arcs:
        arc = placed.arc
        (xt, yt), (xh, yh) = position[arc.tail], position[arc.head]
        y = y_of(run_row[id(arc)])
        down = 1 if yh > yt else -1
        if xh - xt < 2 * radius:
            # Head and tail at one time (a dummy, or a zero-day step): straight down to a
            # neighbouring row, or down the gap beside the column to a farther one.
            if abs(row_of[arc.head] - row_of[arc.tail]) <= 1:
                route = ((xt, yt + down * radius), (xh, yh - down * (radius + 1)))
            else:
                route = (
                    (xt + radius, yt),
                    (xt + gap, yt),
                    (xt + gap, yh),
                    (xh + radius + 1, yh),
                )
            timed.append(
                TimedArc(
                    arc=arc,
                    work=route,
                    float_span=None,
                    link=(),
                    label_x=xt + gap + 4,
                    label_y=(yt + yh) / 2,
                    name_lines=(),
                    free_float=0,
                    compact=True,
                )
            )
            continue
        work = [(xt + radius, yt)]
        if abs(y - yt) >= 0.5:
            work += [(xt + gap, yt), (xt + gap, y)]
        start = work[-1][0]
        level_end = xh - radius - 1 if abs(y - yh) < 0.5 else xh - gap
        work_end = min(max(xt + arc.duration * day_width, start), level_end)
        work.append((work_end, y))
        float_span = (work_end, level_end) if level_end - work_end > 2 else None
        link: tuple[tuple[float, float], ...] = ()
        if abs(y - yh) >= 0.5:
            link = ((level_end, y), (level_end, yh), (xh - radius - 1, yh))
        span = work_end - start
        timed.append(
            TimedArc(
                arc=arc,
                work=tuple(_without_collinear(work)) if len(work) > 2 else tuple(work),
                float_span=float_span,
                link=link,
                label_x=(start + work_end) / 2 if span > 0 else (work_end + level_end) / 2,
                label_y=y,
                name_lines=()
                if arc.dummy or span < _NAMED_SPAN
                else wrap_label(arc.name, int(span / 11), 2),
                free_float=times[arc.head][0] - times[arc.tail][0] - arc.duration,
                compact=span < _NAMED_SPAN,
            )
        )
    axis = tuple(AxisDay(x_of(n), n, date_of(n) if date_of else None) for n in range(0, length + 1))
    height = max(e.y for e in events) + margin + 18
    return TimeScaledDiagram(
        events=events,
        arcs=tuple(timed),
        axis=axis,
        day_width=day_width,
        axis_height=axis_height,
        width=x_of(length) + margin,
        height=height,
        radius=radius,
        length=length,
    )


def aon_arcs(activities: Iterable[dict]) -> list[Arc]:
    """Return an activity-on-node network redrawn as arcs, for the double-code diagram.

    ``activities``: dicts with ``code``, ``name``, ``duration``, ``predecessors`` (codes)
    and ``critical``. Each activity becomes an arc; it starts from its only predecessor's
    head event, from the common start event when it has none, or from its own event that
    dummies from every predecessor's head lead into; activities nothing follows end at one
    common finish event.
    """
    activities = list(activities)
    codes = [a["code"] for a in activities]
    followed = {p for a in activities for p in a["predecessors"]}
    number = {code: i + 2 for i, code in enumerate(codes)}  # head events; 1 is the start
    finish = len(codes) + 2
    next_event = finish + 1
    arcs: list[Arc] = []
    for a in activities:
        preds = list(a["predecessors"])
        if not preds:
            tail = 1
        elif len(preds) == 1:
            tail = number[preds[0]]
        else:
            tail, next_event = next_event, next_event + 1
            arcs.extend(Arc(tail=number[p], head=tail, dummy=True) for p in preds)
        head = number[a["code"]] if a["code"] in followed else finish
        if head == finish and any(x.tail == tail and x.head == finish for x in arcs):
            # A second arc from the same event to the finish needs its own head and a dummy.
            head = number[a["code"]]
            arcs.append(Arc(tail=head, head=finish, dummy=True))
        arcs.append(
            Arc(
                tail=tail,
                head=head,
                code=a["code"],
                name=a.get("name", ""),
                duration=a["duration"],
                critical=bool(a.get("critical")),
            )
        )
    order, _layer = _event_layers(arcs)
    renumber = {old: new for new, old in enumerate(order, start=1)}
    return [
        Arc(
            tail=renumber[x.tail],
            head=renumber[x.head],
            code=x.code,
            name=x.name,
            duration=x.duration,
            dummy=x.dummy,
            critical=x.critical,
        )
        for x in arcs
    ]


# --- The Gantt chart ---------------------------------------------------------------------


@dataclass(frozen=True)
class GanttTask:
    """One activity's dates: the plan, the forecast, the float after it, what is done."""

    key: str
    code: str
    name: str
    baseline_start: date | None
    baseline_finish: date | None
    forecast_start: date | None
    forecast_finish: date | None
    float_finish: date | None = None  # the last day the float reaches
    critical: bool = False
    finished: bool = False
    customer: bool = False
    milestone: bool = False  # a zero-day step: drawn as a diamond
    percent: int | None = None  # complete, 0 to 100 (None: not known)
    started: bool = False

    @property
    def running(self) -> bool:
        return self.started and not self.finished and self.percent is not None


def percent_complete(*, finished: bool, elapsed: int | None, remaining: int | None) -> int:
    """Return the percent complete of an activity: 100 when finished, else the working days
    done over those done and still to do (0 before it starts; 99 at most while it runs)."""
    if finished:
        return 100
    if not elapsed or elapsed <= 0:
        return 0
    remaining = max(0, remaining or 0)
    return min(99, round(100 * elapsed / (elapsed + remaining)))


# Working-day zoom of the Gantt chart: pixels a day (None: the chart fits its width).
ZOOM_DAY_WIDTH = {"week": 24.0, "month": 6.0}


@dataclass(frozen=True)
class Bar:
    x: float
    width: float


@dataclass(frozen=True)
class GanttRow:
    task: GanttTask
    y: float
    baseline: Bar | None
    forecast: Bar | None
    float: Bar | None
    progress_x: float | None = None  # the running task's point on the progress line

    @property
    def middle(self) -> float:
        return self.y + 16

    @property
    def milestone_path(self) -> str:
        """Return the SVG path of the diamond a milestone is drawn as, on its day."""
        if self.forecast is None:
            return ""
        centre = self.forecast.x + self.forecast.width / 2
        return f"M{centre:.1f},{self.middle - 7:.1f} l7,7 l-7,7 l-7,-7 z"


@dataclass(frozen=True)
class Tick:
    x: float
    day: date


@dataclass(frozen=True)
class Gantt:
    rows: tuple[GanttRow, ...]
    first_day: date
    last_day: date
    day_width: float
    chart_x: float
    header_height: float
    row_height: float
    width: float
    height: float
    days_off: tuple[Bar, ...]
    weeks: tuple[Tick, ...]
    months: tuple[Tick, ...]
    today: Tick | None
    commitment: Tick | None
    progress_line: tuple[tuple[float, float], ...] = ()
    kinds: tuple[str, ...] = ()  # the kinds of bar and line drawn, for the legend

    @property
    def progress_points(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in self.progress_line)

    def x(self, day: date) -> float:
        return self.chart_x + (day - self.first_day).days * self.day_width


def gantt_layout(
    tasks: Iterable[GanttTask],
    *,
    today: date | None,
    commitment: date | None,
    is_working_day: Callable[[date], bool],
    label_width: float = 210,
    chart_width: float = 1120,
    row_height: float = 28,
    header_height: float = 46,
    zoom: str | None = None,
) -> Gantt:
    """Return the bars, the days off, the week ticks and the today and commitment lines.

    ``zoom``: a key of ``ZOOM_DAY_WIDTH`` (a week or a month scale), or None to fit the
    chart in ``chart_width``. The progress line (前锋线) runs down the today line and out
    to each running task's point: its percent complete of its baseline bar (of its
    forecast bar without a baseline), left of today when it is behind, right when ahead.
    ``kinds`` lists what the chart draws, in legend order.
    """
    tasks = list(tasks)
    days = [
        d
        for t in tasks
        for d in (
            t.baseline_start,
            t.baseline_finish,
            t.forecast_start,
            t.forecast_finish,
            t.float_finish,
        )
        if d is not None
    ] + [d for d in (today, commitment) if d is not None]
    if not days:
        days = [today or date(2000, 1, 1)]
    first = min(days) - timedelta(days=1)
    last = max(days) + timedelta(days=2)
    span = (last - first).days + 1
    day_width = ZOOM_DAY_WIDTH.get(zoom or "") or max(3.0, min(22.0, chart_width / span))
    gantt_width = span * day_width

    def x(day: date) -> float:
        return label_width + (day - first).days * day_width

    def bar(start: date | None, finish: date | None) -> Bar | None:
        if start is None or finish is None:
            return None
        if finish < start:
            start, finish = finish, start
        return Bar(x(start), (finish - start).days * day_width + day_width)

    rows = []
    for i, task in enumerate(tasks):
        float_bar = None
        if task.float_finish and task.forecast_finish and task.float_finish > task.forecast_finish:
            float_bar = bar(task.forecast_finish + timedelta(days=1), task.float_finish)
        baseline = bar(task.baseline_start, task.baseline_finish)
        forecast = bar(task.forecast_start, task.forecast_finish)
        progress_x = None
        if task.running and today is not None and (baseline or forecast):
            scale = baseline or forecast
            progress_x = scale.x + scale.width * task.percent / 100
        rows.append(
            GanttRow(
                task=task,
                y=header_height + i * row_height,
                baseline=baseline,
                forecast=forecast,
                float=float_bar,
                progress_x=progress_x,
            )
        )
    days_off: list[Bar] = []
    day = first
    while day <= last:
        if not is_working_day(day):
            run = day
            while run + timedelta(days=1) <= last and not is_working_day(run + timedelta(days=1)):
                run += timedelta(days=1)
            days_off.append(bar(day, run))
            day = run
        day += timedelta(days=1)
    weeks = []
    months = [Tick(x(first), first)]
    day = first
    # A week label ("8月31日") needs about 45 pixels.
    step = 7 if day_width >= 7 else 14
    while day <= last:
        if day.weekday() == 0 and ((day - first).days // 7) % (step // 7) == 0:
            weeks.append(Tick(x(day), day))
        if day.day == 1 and day != first:
            months.append(Tick(x(day), day))
        day += timedelta(days=1)
    if len(months) > 1 and months[1].x - months[0].x < 60:
        months.pop(0)
    height = header_height + len(rows) * row_height + 8
    today_tick = Tick(x(today), today) if today and first <= today <= last else None
    progress_line: list[tuple[float, float]] = []
    if today_tick and any(row.progress_x is not None for row in rows):
        # It leaves the today line only at the running tasks, to their progress points.
        line_x = today_tick.x
        progress_line.append((line_x, header_height))
        for row in rows:
            if row.progress_x is not None:
                progress_line += [
                    (line_x, row.y + 3),
                    (row.progress_x, row.middle),
                    (line_x, row.y + row_height - 3),
                ]
        progress_line.append((line_x, height))
    drawn = [row for row in rows if row.forecast and not row.task.milestone]
    present = {
        "baseline": any(row.baseline for row in rows),
        "critical": any(r.task.critical and not r.task.finished for r in drawn),
        "forecast": any(not (r.task.critical or r.task.finished or r.task.customer) for r in drawn),
        "customer": any(r.task.customer and not r.task.finished for r in drawn),
        "finished": any(r.task.finished for r in drawn),
        "milestone": any(row.forecast and row.task.milestone for row in rows),
        "float": any(row.float for row in rows),
        "dayoff": bool(days_off),
        "today": today_tick is not None,
        "progress": bool(progress_line),
        "commitment": commitment is not None,
    }
    return Gantt(
        rows=tuple(rows),
        first_day=first,
        last_day=last,
        day_width=day_width,
        chart_x=label_width,
        header_height=header_height,
        row_height=row_height,
        width=label_width + gantt_width + 8,
        height=height,
        days_off=tuple(days_off),
        weeks=tuple(weeks),
        months=tuple(months),
        today=today_tick,
        commitment=Tick(x(commitment) + day_width, commitment) if commitment else None,
        progress_line=tuple(progress_line),
        kinds=tuple(kind for kind, shown in present.items() if shown),
    )
