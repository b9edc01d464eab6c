"""The compiled passes of the Monte Carlo forecast (:mod:`scheduling.risk`).

Pure: numpy and numba, nothing of Django. :func:`run_chunk` draws each run's durations from
the bits and tables it is given, computes the two passes of the network engine with the
rules of :meth:`scheduling.cpm.CompiledNetwork.forecast` (recorded dates, lags and leads,
floors, crews' first days, meeting days), then per case the sorted finishes and their
tally, each activity's criticality count and its sensitivity. Each activity's row of runs
is one loop (vectorised by LLVM) where numpy made several passes, each with a temporary
array of every run: the same answer, exactly (integer arithmetic, the same float
operations in the same order), at a fraction of the cost.

Compiled on first use and kept on disk (numba's cache), so a process pays the compilation
once per machine, not once per start.
"""

from __future__ import annotations

import numba
import numpy as np

# What the kernel knows of each case's record of an activity.
NOT_RECORDED = 0
DONE = 1
STARTED = 2
# Where each case's duration of an activity comes from.
FIXED = 0
DRAWN = 1
RUNNING = 2
# The steps of a distribution's table (scheduling.risk.TABLE_SIZE).
TABLE_SIZE = 4096

# Later than any offset: the latest finish before any successor is read.
_FAR = np.iinfo(np.int32).max


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _meeting_table(weekdays, case, wanted, size, search, after):
    """The meeting day on or after (``after``) or on or before each offset below ``size``
    (the offset itself when none lies within ``search`` days), as the engine searches."""
    table = np.empty(size, np.int32)
    for offset in range(size):
        table[offset] = offset
        if after:
            for day in range(offset, offset + search):
                if weekdays[case, day] == wanted:
                    table[offset] = day
                    break
        else:
            for day in range(offset, max(-1, offset - search), -1):
                if weekdays[case, day] == wanted:
                    table[offset] = day
                    break
    return table


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _sums(xs, ys):
    """The sum of ``xs``, of their squares and of their products with ``ys``, exact."""
    sum_x = np.int64(0)
    sum_xx = np.int64(0)
    sum_xy = np.int64(0)
    for r in range(len(xs)):
        x = np.int64(xs[r])
        sum_x += x
        sum_xx += x * x
        sum_xy += x * ys[r]
    return sum_x, sum_xx, sum_xy


@numba.njit(cache=True, nogil=True, boundscheck=False)
def run_chunk(links, duration, draws, runs, cases, weekdays, search, out):
    """Run every case of a chunk: column ``a * runs + r`` of ``duration`` (activities ×
    columns, whole days: a started activity's elapsed days plus those drawn to go; filled
    here) is run ``r`` of case ``a``. The network's ``links`` are (order, pred_start,
    pred_node, pred_lag, succ_start, succ_node, succ_lag); ``draws`` (source, value,
    offset, bit_row, below, bits, bit_start, tables); ``cases`` (floor, tp, kind,
    recorded_start, recorded_finish, not_before, held); ``out`` (finishes, days, done,
    distinct, critical, sensitivity).

    Case ``a``'s duration of activity ``i`` is, by ``source[a, i]``: FIXED, ``value``;
    DRAWN, the step of ``tables`` at ``offset`` picked by the low 12 of the run's 16 bits
    of row ``bit_row`` (``bits`` from ``bit_start[a]``, a row of ``runs`` per activity
    drawn); RUNNING (work under way whose distribution holds longer durations than it has
    run), the table read above the share ``below`` that has run by now with the bits as a
    probability, at least ``value``.

    Per case ``a`` and activity ``i``: ``kind`` says whether it is recorded (DONE: at
    ``recorded_start``/``recorded_finish``; STARTED: at ``recorded_start``), ``not_before``
    its first possible offset, ``held`` its meeting weekday (-1: none), read in
    ``weekdays[a]`` (a row of offsets' weekdays). Fills ``finishes`` (cases × runs, each
    sorted), their tally (``distinct[a]`` days in ``days[a]``, ascending, and in ``done[a]``
    the runs finished by each), ``critical`` (the count of runs each activity is critical
    in, activities × cases) and ``sensitivity`` (the correlation of its duration with the
    finish, activities × cases). Returns 0, or the length ``weekdays`` must have when a
    meeting day lies beyond it (nothing filled is then to be read).
    """
    order, pred_start, pred_node, pred_lag, succ_start, succ_node, succ_lag = links
    source, value, offset, bit_row, below, bits, bit_start, tables = draws
    floor, tp, kind, recorded_start, recorded_finish, not_before, held = cases
    finishes, days, done, distinct, critical, sensitivity = out
    n = len(order)
    count = len(floor)
    # Offsets whose meeting day can be looked up.
    size = weekdays.shape[1] - search
    es = np.empty((n, runs), np.int32)
    ef = np.empty((n, runs), np.int32)
    ls = np.empty((n, runs), np.int32)
    lf = np.empty((n, runs), np.int32)
    row = np.empty(runs, np.int32)
    finish = np.empty(runs, np.int32)
    least = np.empty(runs, np.int32)
    for a in range(count):
        low = np.int32(floor[a])
        planned = np.int32(tp[a])
        first = a * runs
        for i in range(n):
            d = duration[i, first : first + runs]
            kind_of = source[a, i]
            start = bit_start[a] + bit_row[a, i] * runs
            at = offset[a, i]
            if kind_of == DRAWN:
                for r in range(runs):
                    d[r] = tables[at + (bits[start + r] & (TABLE_SIZE - 1))]
            elif kind_of == RUNNING:
                share = below[a, i]
                shortest = value[a, i]
                for r in range(runs):
                    uniform = (float(bits[start + r]) + 0.5) / 65536.0
                    step = min(int((share + uniform * (1.0 - share)) * TABLE_SIZE), TABLE_SIZE - 1)
                    d[r] = max(tables[at + step], shortest)
            else:
                fixed = value[a, i]
                for r in range(runs):
                    d[r] = fixed
        # Forward: the earliest dates.
        for k in range(n):
            i = order[k]
            record = kind[a, i]
            esi = es[i]
            efi = ef[i]
            if record == DONE:
                began = np.int32(recorded_start[a, i])
                ended = np.int32(recorded_finish[a, i])
                for r in range(runs):
                    esi[r] = began
                    efi[r] = ended
                continue
            start = max(low, np.int32(not_before[a, i]))
            for r in range(runs):
                row[r] = start
            for p in range(pred_start[i], pred_start[i + 1]):
                before = ef[pred_node[p]]
                lag = np.int32(pred_lag[p])
                for r in range(runs):
                    row[r] = max(row[r], before[r] + lag)
            d = duration[i, first : first + runs]
            if record == STARTED:
                began = np.int32(recorded_start[a, i])
                gone = low - began
                for r in range(runs):
                    esi[r] = began
                    efi[r] = row[r] + d[r] - gone
            elif held[a, i] >= 0:
                top = 0
                for r in range(runs):
                    top = max(top, row[r])
                if top >= size:
                    return top + search + 1
                table = _meeting_table(weekdays, a, held[a, i], top + 1, search, True)
                for r in range(runs):
                    esi[r] = table[row[r]]
                    efi[r] = esi[r] + d[r]
            else:
                for r in range(runs):
                    esi[r] = row[r]
                    efi[r] = row[r] + d[r]
        for r in range(runs):
            finish[r] = 0
        for i in range(n):
            efi = ef[i]
            for r in range(runs):
                finish[r] = max(finish[r], efi[r])
        # Backward: the latest dates; ``ls`` becomes the total floats.
        for k in range(n - 1, -1, -1):
            i = order[k]
            esi = es[i]
            efi = ef[i]
            if succ_start[i] == succ_start[i + 1]:
                for r in range(runs):
                    row[r] = planned
            else:
                for r in range(runs):
                    row[r] = _FAR
            for s in range(succ_start[i], succ_start[i + 1]):
                succ = succ_node[s]
                lag = np.int32(succ_lag[s])
                es_s = es[succ]
                ef_s = ef[succ]
                ls_s = ls[succ]
                lf_s = lf[succ]
                for r in range(runs):
                    hand_over = efi[r] + lag
                    # A recorded start before this finish is read as starting at the
                    # hand-over.
                    if es_s[r] < hand_over:
                        late = lf_s[r] - max(ef_s[r] - hand_over, 0) - lag
                    else:
                        late = ls_s[r] - lag
                    if lag < 0:
                        late = min(late, planned)
                    row[r] = min(row[r], late)
            lsi = ls[i]
            lfi = lf[i]
            wanted = held[a, i]
            if wanted >= 0:
                top = 0
                for r in range(runs):
                    top = max(top, row[r] - (efi[r] - esi[r]))
                if top >= size:
                    return top + search + 1
                table = _meeting_table(weekdays, a, wanted, top + 1, search, False)
                for r in range(runs):
                    span = efi[r] - esi[r]
                    latest = row[r] - span
                    if latest >= 0:
                        latest = table[latest]
                        lsi[r] = latest
                        lfi[r] = latest + span
                    else:
                        lsi[r] = latest
                        lfi[r] = row[r]
            else:
                for r in range(runs):
                    lsi[r] = row[r] - (efi[r] - esi[r])
                    lfi[r] = row[r]
        for i in range(n):
            lsi = ls[i]
            esi = es[i]
            for r in range(runs):
                lsi[r] -= esi[r]
        for r in range(runs):
            least[r] = _FAR
        for i in range(n):
            lsi = ls[i]
            for r in range(runs):
                least[r] = min(least[r], lsi[r])
        sum_y, sum_yy, _ = _sums(finish, finish)
        # Whole days: the sums are exact, so no centring is needed.
        spread_y = runs * float(sum_yy) - float(sum_y) * float(sum_y)
        for i in range(n):
            lsi = ls[i]
            hits = 0
            for r in range(runs):
                hits += lsi[r] == least[r]
            critical[i, a] = hits
            if source[a, i] == FIXED:
                # The same duration in every run: nothing to correlate (the sums below
                # would find no spread, exactly).
                sensitivity[i, a] = 0.0
                continue
            sum_x, sum_xx, sum_xy = _sums(duration[i, first : first + runs], finish)
            spread = (runs * float(sum_xx) - float(sum_x) * float(sum_x)) * spread_y
            if spread > 0:
                sensitivity[i, a] = (runs * float(sum_xy) - float(sum_x) * float(sum_y)) / np.sqrt(
                    spread
                )
            else:
                sensitivity[i, a] = 0.0
        # The finishes sorted by counting: they span a few hundred days at most.
        top = finish[0]
        bottom = finish[0]
        for r in range(runs):
            top = max(top, finish[r])
            bottom = min(bottom, finish[r])
        tally = np.zeros(top - bottom + 1, np.int64)
        for r in range(runs):
            tally[finish[r] - bottom] += 1
        at = 0
        m = 0
        for day in range(top - bottom + 1):
            if tally[day]:
                for _ in range(tally[day]):
                    finishes[a, at] = bottom + day
                    at += 1
                days[a, m] = bottom + day
                done[a, m] = at
                m += 1
        distinct[a] = m
    return 0
