"""``key_averages()``: events grouped by name (and input shapes), and their table, as
``torch.profiler``'s ``EventList`` / ``FunctionEventAvg`` print them. Times are in
microseconds, as there."""

from __future__ import annotations

_SORT_KEYS = (
    "self_cpu_time_total", "cpu_time_total", "cpu_time", "count",
    "self_cuda_time_total", "cuda_time_total", "cuda_time",
)  # fmt: skip


class FunctionEventAvg:
    """Mirrors ``torch.autograd.profiler_util.FunctionEventAvg``: totals of one group."""

    def __init__(self, key, kind, input_shapes):
        self.key, self.kind, self.input_shapes = key, kind, input_shapes
        self.count = 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0
        self.cuda_time_total = self.self_cuda_time_total = 0.0

    def add(self, event) -> None:
        self.count += 1
        total, own = event.total_ns / 1e3, event.self_ns / 1e3
        self.cpu_time_total += total
        self.self_cpu_time_total += own
        if event.cuda:
            self.cuda_time_total += total
            self.self_cuda_time_total += own

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / max(self.count, 1)

    @property
    def cuda_time(self) -> float:
        return self.cuda_time_total / max(self.count, 1)

    def __repr__(self) -> str:
        return (
            f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total:.3f}us "
            f"cpu_time={self.cpu_time_total:.3f}us count={self.count}>"
        )


def _fmt_us(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _pct(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.2f}%" if whole > 0 else "0.00%"


class EventList(list):
    """Mirrors ``torch.autograd.profiler_util.EventList`` as ``key_averages()`` returns it."""

    def __init__(self, rows, with_cuda: bool, with_shapes: bool):
        super().__init__(rows)
        self._with_cuda, self._with_shapes = with_cuda, with_shapes

    def table(self, sort_by=None, row_limit=100, max_name_column_width=55, header=None) -> str:
        """Mirrors ``EventList.table``: one row per group, sorted by ``sort_by`` (descending),
        at most ``row_limit`` rows (all with -1)."""
        if sort_by is not None and sort_by not in _SORT_KEYS:
            keys = ", ".join(_SORT_KEYS)
            raise ValueError(f"table: sort_by must be one of {keys}; got {sort_by!r}")
        rows = list(self)
        if sort_by is not None:
            rows.sort(key=lambda r: getattr(r, sort_by), reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        self_cpu = sum(r.self_cpu_time_total for r in self)
        self_cuda = sum(r.self_cuda_time_total for r in self)
        heads = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
        if self._with_cuda:
            heads += ["Self CUDA", "Self CUDA %", "CUDA total", "CUDA time avg"]
        heads.append("# of Calls")
        if self._with_shapes:
            heads.append("Input Shapes")
        names = [r.key[:max_name_column_width] for r in rows]
        name_w = max([len("Name")] + [len(n) for n in names])
        widths = [name_w] + [12] * (len(heads) - (1 if self._with_shapes else 0))
        body = []
        for r, name in zip(rows, names):
            cells = [
                _pct(r.self_cpu_time_total, self_cpu), _fmt_us(r.self_cpu_time_total),
                _pct(r.cpu_time_total, self_cpu), _fmt_us(r.cpu_time_total), _fmt_us(r.cpu_time),
            ]  # fmt: skip
            if self._with_cuda:
                cells += [
                    _fmt_us(r.self_cuda_time_total), _pct(r.self_cuda_time_total, self_cuda),
                    _fmt_us(r.cuda_time_total), _fmt_us(r.cuda_time),
                ]  # fmt: skip
            cells.append(str(r.count))
            if self._with_shapes:
                cells.append(str(r.input_shapes))
            body.append([name] + cells)
        if self._with_shapes:
            widths.append(max([len("Input Shapes")] + [len(b[-1]) for b in body]))
        rule = "  ".join("-" * w for w in widths)

        def line(cells):
            out = [cells[0].rjust(widths[0])] + [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
            if self._with_shapes:
                out[-1] = cells[-1].ljust(widths[-1])
            return "  ".join(out).rstrip()

        lines = ([header] if header else []) + [rule, line(["Name"] + heads), rule]
        lines += [line(b) for b in body] + [rule, f"Self CPU time total: {_fmt_us(self_cpu)}"]
        if self._with_cuda:
            lines.append(f"Self CUDA time total: {_fmt_us(self_cuda)}")
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.table()


def key_averages(events, group_by_input_shape: bool, with_cuda: bool) -> EventList:
    """Groups ``events`` by name, or by (name, input shapes), in order of first appearance."""
    groups: dict = {}
    for e in events:
        shapes = (e.shapes or []) if group_by_input_shape else None
        key = (e.name, repr(shapes)) if group_by_input_shape else e.name
        row = groups.get(key)
        if row is None:
            row = groups[key] = FunctionEventAvg(e.name, e.kind, shapes)
        row.add(e)
    return EventList(groups.values(), with_cuda, group_by_input_shape)
