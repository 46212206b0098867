"""`model.summary()`: the Keras 3 box table (KERAS.md §12.1), without the `rich` dependency.

Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ dense (Dense)                   │ (None, 32)             │        25,120 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 50,992 (199.19 KB)
"""

from __future__ import annotations

import shutil
import textwrap

import numpy as np

from .engine import InputLayer

# Inner widths (including the one-space padding) measured from Keras 3 outputs.
_KNOWN_WIDTHS = {
    (3, 76): [33, 24, 15], (3, 88): [38, 29, 17],
    (4, 76): [21, 19, 12, 19], (4, 108): [31, 27, 17, 28],
}


def format_size(nbytes):
    units = ["B", "KB", "MB", "GB", "TB", "PB"]
    size = float(nbytes)
    i = 0
    while size >= 1024 and i < len(units) - 1:
        size /= 1024
        i += 1
    return f"{size:.2f} {units[i]}"


def _column_widths(n_cols, line_length):
    key = (n_cols, line_length)
    if key in _KNOWN_WIDTHS:
        return list(_KNOWN_WIDTHS[key])
    ref = _KNOWN_WIDTHS[(3, 88)] if n_cols == 3 else _KNOWN_WIDTHS[(4, 108)]
    inner = max(line_length - (n_cols + 1), 4 * n_cols)
    widths = [max(4, round(inner * w / sum(ref))) for w in ref]
    widths[-1] = max(4, inner - sum(widths[:-1]))
    return widths


def _wrap(text, width):
    lines = textwrap.wrap(str(text), max(width, 1), break_long_words=True,
                          break_on_hyphens=False)
    return lines or [""]


def _row_lines(cells, widths, aligns, vbar):
    wrapped = [_wrap(c, w - 2) for c, w in zip(cells, widths)]
    height = max(len(w) for w in wrapped)
    out = []
    for i in range(height):
        parts = []
        for lines, w, align in zip(wrapped, widths, aligns):
            text = lines[i] if i < len(lines) else ""
            text = text.rjust(w - 2) if align == "right" else text.ljust(w - 2)
            parts.append(" " + text + " ")
        out.append(vbar + vbar.join(parts) + vbar)
    return out


def _rule(widths, left, mid, right, fill):
    return left + mid.join(fill * w for w in widths) + right


def _shape_str(shape):
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_str(s) for s in shape) + "]"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (
        ",)" if len(shape) == 1 else ")")


def _is_chain(model):
    from .sequential import Sequential

    if isinstance(model, Sequential):
        return True
    if len(model._inputs) != 1 or len(model._outputs) != 1:
        return False
    seen = set()
    for node in model._nodes:
        if len(node.inbound_tensors) != 1 or len(node.outbound_tensors) != 1:
            return False
        if id(node.layer) in seen:
            return False
        seen.add(id(node.layer))
    return all(c <= 1 for c in model._consumers.values())


def _layer_rows(model, graph_mode, show_trainable, expand_nested=False, depth=0):
    from .functional import Model, _class_name

    rows = []
    for layer in model.layers:
        nodes = model._model_nodes_of(layer) if model._graph_ready else []
        name = "  " * depth + f"{layer.name} ({_class_name(layer)})"
        if nodes:
            shapes = [t.shape for t in nodes[0].outbound_tensors]
            shape = _shape_str(shapes[0] if nodes[0].single_output else shapes)
        else:
            shape = "?"
        if layer.built or isinstance(layer, InputLayer):
            params = f"{layer.count_params():,}"
        else:
            params = "0 (unbuilt)"
        row = [name, shape, params]
        if graph_mode:
            conns = []
            if not isinstance(layer, InputLayer):
                for node in nodes:
                    for t in node.inbound_tensors:
                        producer = t.node.layer
                        idx = model._model_nodes_of(producer).index(t.node) \
                            if t.node in model._model_nodes_of(producer) else 0
                        conns.append(f"{producer.name}[{idx}][{t.tensor_index}]")
            row.append(", ".join(conns) if conns else "-")
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        rows.append(row)
        if expand_nested and isinstance(layer, Model) and layer._graph_ready:
            inner = _layer_rows(layer, graph_mode, show_trainable, True, depth + 1)
            rows.extend(r for r in inner if not r[0].strip().endswith("(InputLayer)"))
    return rows


def summary_lines(model, line_length=None, expand_nested=False, show_trainable=False):
    """The summary table as a list of lines."""
    graph_mode = model._graph_ready and not _is_chain(model)
    n_cols = 4 if graph_mode else 3
    if line_length is None:
        default = 108 if graph_mode else 88
        cols = shutil.get_terminal_size(fallback=(80, 24)).columns
        line_length = min(default, cols - 4)
    widths = _column_widths(n_cols, line_length)
    headers = ["Layer (type)", "Output Shape", "Param #"]
    aligns = ["left", "left", "right"]
    if graph_mode:
        headers.append("Connected to")
        aligns.append("left")
    if show_trainable:
        headers.append("Trainable")
        aligns.append("left")
        widths.append(11)
    rows = _layer_rows(model, graph_mode, show_trainable, expand_nested)
    lines = [f'Model: "{model.name}"']
    lines.append(_rule(widths, "┏", "┳", "┓", "━"))
    lines.extend(_row_lines(headers, widths, aligns, "┃"))
    lines.append(_rule(widths, "┡", "╇", "┩", "━"))
    for i, row in enumerate(rows):
        if i:
            lines.append(_rule(widths, "├", "┼", "┤", "─"))
        lines.extend(_row_lines(row, widths, aligns, "│"))
    lines.append(_rule(widths, "└", "┴", "┘", "─"))

    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    opt_count, opt_bytes = 0, 0
    opt = getattr(model, "optimizer", None)
    show_opt = opt is not None and model._optimizer_is_built()
    if show_opt:
        for v in getattr(opt, "variables", []) or []:
            arr = np.asarray(getattr(v, "value", v))
            opt_count += int(arr.size)
            opt_bytes += int(arr.nbytes)
    total = trainable + non_trainable + opt_count
    total_bytes = 4 * (trainable + non_trainable) + opt_bytes
    lines.append(f" Total params: {total:,} ({format_size(total_bytes)})")
    lines.append(f" Trainable params: {trainable:,} ({format_size(4 * trainable)})")
    lines.append(f" Non-trainable params: {non_trainable:,} ({format_size(4 * non_trainable)})")
    if show_opt:
        lines.append(f" Optimizer params: {opt_count:,} ({format_size(opt_bytes)})")
    return lines


def print_summary(model, line_length=None, print_fn=None, expand_nested=False,
                  show_trainable=False):
    """Prints the summary line by line through `print_fn` (default `print`)."""
    lines = summary_lines(model, line_length, expand_nested, show_trainable)
    fn = print_fn or print
    for line in lines:
        fn(line)
