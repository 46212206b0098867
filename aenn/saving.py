"""Saving and loading models and weights.

A model file (``.aenn``; ``.keras`` is accepted and holds the same format) is a zip archive,
uncompressed, with three members written in this order:

* ``metadata.json`` — ``aenn_version``, ``format_version``, ``date_saved``
  (``YYYY-MM-DD@HH:MM:SS``) and the SHA-256 of the two other members, so a tampered or
  damaged file is detected on load;
* ``config.json`` — ``class_name`` and ``config`` (``model.get_config()``), the compile
  settings (``compile_config``) and the list of weights (path and shape of each);
* ``weights.npz`` — every weight of ``model.weights`` in order (``w0000``, ``w0001``, ...),
  then the optimizer's variables when it is built (``o0000``, ...), written with ``np.savez``.

Loading never unpickles (``allow_pickle=False``) and never executes code from the file. Every
write goes to a temporary file in the destination folder that is then renamed over the target
(``os.replace``), so an interrupted save leaves any previous file intact.

A weights file (``.weights.npz``, or ``.weights.h5`` for Keras-style paths — the content is
NumPy ``.npz`` either way, not HDF5) holds the same ``w0000``... arrays plus a JSON manifest.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import tempfile
import warnings
import zipfile

import numpy as np

FORMAT_VERSION = 1
MODEL_EXTENSIONS = (".aenn", ".keras")
LEGACY_EXTENSIONS = (".h5", ".hdf5")
WEIGHTS_EXTENSIONS = (".weights.npz", ".weights.h5")
_MEMBERS = ("metadata.json", "config.json", "weights.npz")


# ----- helpers ------------------------------------------------------------------------------

def _version():
    try:
        from . import __version__

        return __version__
    except ImportError:  # pragma: no cover
        return "unknown"


def _json_default(obj):
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.dtype):
        return str(obj)
    if hasattr(obj, "get_config"):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    if callable(obj) and getattr(obj, "__name__", "<lambda>") != "<lambda>":
        return obj.__name__  # named functions are stored by name (pass them in custom_objects)
    raise TypeError(
        f"Cannot serialize {obj!r} (of type {type(obj).__name__}) in the model config; lambdas "
        "and arbitrary Python objects cannot be saved. Use a named function or a class with "
        "`get_config()`."
    )


def _dumps(obj):
    return json.dumps(obj, default=_json_default, indent=2, sort_keys=False).encode("utf-8")


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _value(var):
    """The NumPy array behind a Variable (or the array itself)."""
    value = getattr(var, "value", var)
    return np.asarray(value)


def _describe(var, index):
    layer = getattr(getattr(var, "layer", None), "name", None)
    name = getattr(var, "name", None) or f"weight {index}"
    if layer is not None:
        return f"layer {layer!r} weight `{name}`"
    return f"weight `{getattr(var, 'path', name)}`"


def _atomic_write(path, write_fn):
    """Calls ``write_fn(file_object)`` on a temp file next to `path`, then renames it to `path`."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write_fn(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def _npz_bytes(arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _weights_payload(model, include_optimizer):
    weights = list(model.weights)
    arrays = {f"w{i:04d}": np.array(_value(v), order="C") for i, v in enumerate(weights)}
    manifest = [
        {"path": getattr(v, "path", f"weight_{i}"), "shape": list(_value(v).shape)}
        for i, v in enumerate(weights)
    ]
    opt_count = 0
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None and getattr(optimizer, "built", True):
        opt_vars = list(getattr(optimizer, "variables", None) or [])
        for i, v in enumerate(opt_vars):
            arrays[f"o{i:04d}"] = np.array(_value(v), order="C")
        opt_count = len(opt_vars)
    return arrays, manifest, opt_count


def _check_extension(path, allowed, what):
    if not path.endswith(allowed):
        raise ValueError(
            f"Invalid filepath for {what}: expected a path ending in "
            f"{' or '.join(repr(e) for e in allowed)}, received filepath={path!r}"
        )


def _compile_config(model):
    cfg = getattr(model, "compile_config", None)
    if callable(cfg):
        cfg = cfg()
    if cfg is None and hasattr(model, "get_compile_config"):
        cfg = model.get_compile_config()
    return cfg


# ----- model files --------------------------------------------------------------------------

def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """Saves a model (architecture, compile settings, weights, optimizer state) to one file.

    Args:
        model: the model.
        filepath: path ending in ``.aenn`` (aenn's format) or ``.keras`` (the same aenn zip
            format under Keras's extension; it is NOT readable by Keras). ``.h5``/``.hdf5`` are
            accepted with a warning and also get the zip format.
        overwrite: whether to replace an existing file.
        include_optimizer: whether to save the optimizer's variables (slots, iterations).
    """
    filepath = os.fspath(filepath)
    if filepath.endswith(LEGACY_EXTENSIONS):
        warnings.warn(
            f"{filepath!r}: aenn does not write HDF5; the file gets aenn's zip format "
            "(use the `.aenn` extension).", stacklevel=2)
    else:
        _check_extension(filepath, MODEL_EXTENSIONS, "`save_model`")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists and overwrite=False.")
    arrays, manifest, opt_count = _weights_payload(model, include_optimizer)
    config = {
        "class_name": "Functional" if type(model).__name__ == "Model" else type(model).__name__,
        "config": model.get_config(),
        "compile_config": _compile_config(model),
        "weights": manifest,
        "optimizer_variables": opt_count,
    }
    config_bytes = _dumps(config)
    weights_bytes = _npz_bytes(arrays)
    metadata = {
        "aenn_version": _version(),
        "format_version": FORMAT_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "sha256": {"config.json": _sha256(config_bytes), "weights.npz": _sha256(weights_bytes)},
    }

    def write(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as z:
            z.writestr("metadata.json", _dumps(metadata))
            z.writestr("config.json", config_bytes)
            z.writestr("weights.npz", weights_bytes)

    _atomic_write(filepath, write)


def _read_model_file(filepath):
    """(metadata, config, weights_bytes) of a model file, integrity-checked."""
    try:
        with zipfile.ZipFile(filepath, "r") as z:
            names = set(z.namelist())
            missing = [m for m in _MEMBERS if m not in names]
            if missing:
                raise ValueError(
                    f"{filepath} is not an aenn model file: it lacks {', '.join(missing)}.")
            members = {m: z.read(m) for m in _MEMBERS}
    except zipfile.BadZipFile as e:
        raise ValueError(
            f"{filepath} is not a valid aenn model file (a zip archive): it is truncated or "
            f"corrupted ({e})."
        ) from None
    except (zipfile.LargeZipFile, EOFError, OSError) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise ValueError(f"{filepath} could not be read: it is truncated or corrupted ({e}).") \
            from None
    try:
        metadata = json.loads(members["metadata.json"])
        config = json.loads(members["config.json"])
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{filepath}: corrupted metadata/config ({e}).") from None
    digests = metadata.get("sha256", {}) if isinstance(metadata, dict) else {}
    for member in ("config.json", "weights.npz"):
        expected = digests.get(member)
        if expected is None or _sha256(members[member]) != expected:
            raise ValueError(
                f"{filepath}: the checksum of {member} does not match the one recorded in "
                "metadata.json; the file was modified or damaged after it was saved."
            )
    version = metadata.get("format_version", FORMAT_VERSION)
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise ValueError(f"{filepath} was written by a newer aenn (format version {version}); "
                         "upgrade aenn to read it.")
    return metadata, config, members["weights.npz"]


def _load_npz(data, what):
    try:
        with np.load(io.BytesIO(data) if isinstance(data, bytes) else data,
                     allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        raise ValueError(f"{what} is not a valid weights file: truncated or corrupted ({e}).") \
            from None


def _assign(model, arrays, manifest, what):
    """Checks every saved array against the model's weights, then assigns them all."""
    weights = list(model.weights)
    saved = sorted(k for k in arrays if k.startswith("w"))
    if len(saved) != len(weights):
        raise ValueError(
            f"Cannot load weights from {what}: the file has {len(saved)} weights but the model "
            f"{getattr(model, 'name', '')!r} has {len(weights)}. The architectures differ."
        )
    values = []
    for i, (var, key) in enumerate(zip(weights, saved)):
        value = arrays[key]
        target = _value(var).shape
        if value.shape != target:
            origin = ""
            if manifest and i < len(manifest):
                origin = f" (saved from `{manifest[i].get('path')}`)"
            raise ValueError(
                f"Cannot load weights from {what}: {_describe(var, i)} has shape {target}, the "
                f"saved weight {i}{origin} has shape {value.shape}."
            )
        values.append(value)
    for var, value in zip(weights, values):
        if hasattr(var, "assign"):
            var.assign(value.astype(np.float32, copy=False))
        else:
            np.copyto(var, value)


def _restore_optimizer(model, arrays, count, filepath):
    optimizer = getattr(model, "optimizer", None)
    if not count or optimizer is None:
        return
    if not getattr(optimizer, "built", False) and hasattr(optimizer, "build"):
        optimizer.build(model.trainable_weights)
    opt_vars = list(getattr(optimizer, "variables", None) or [])
    saved = [arrays.get(f"o{i:04d}") for i in range(count)]
    if len(opt_vars) != count or any(
            s is None or _value(v).shape != s.shape for v, s in zip(opt_vars, saved)):
        warnings.warn(f"{filepath}: the optimizer state does not match the model's optimizer; "
                      "it was not restored.", stacklevel=3)
        return
    for var, value in zip(opt_vars, saved):
        if hasattr(var, "assign"):
            var.assign(value)
        else:
            target = np.asarray(var)
            np.copyto(target, value.astype(target.dtype, copy=False))


def _compile_from_config(model, cfg, custom_objects):
    if hasattr(model, "compile_from_config"):
        model.compile_from_config(cfg)
        return
    cfg = dict(cfg)
    opt = cfg.get("optimizer")
    if isinstance(opt, dict) and "class_name" in opt:
        cls = (custom_objects or {}).get(opt["class_name"])
        if cls is None:
            from . import optimizers

            cls = type(optimizers.get(opt["class_name"].lower()))
        cfg["optimizer"] = cls.from_config(opt.get("config", {}))
    for key in ("loss",):
        value = cfg.get(key)
        if isinstance(value, str) and custom_objects and value in custom_objects:
            cfg[key] = custom_objects[value]
    model.compile(**cfg)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved with `model.save` / `save_model`.

    Args:
        filepath: the ``.aenn`` (or ``.keras``) file.
        custom_objects: dict mapping names to custom classes or functions used by the model.
        compile: whether to compile the model with the saved compile settings (and restore the
            optimizer state).
        safe_mode: accepted for Keras compatibility; aenn never executes code from a file.

    Returns:
        The model, with its weights (and, when compiled, its optimizer state).

    Raises:
        ValueError: the file is truncated, tampered with, or not an aenn model file.
    """
    filepath = os.fspath(filepath)
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"No file found at {filepath!r}.")
    _, config, weights_bytes = _read_model_file(filepath)
    from .models import model_from_config

    model = model_from_config({"class_name": config["class_name"], "config": config["config"]},
                              custom_objects=custom_objects)
    arrays = _load_npz(weights_bytes, filepath)
    _assign(model, arrays, config.get("weights"), filepath)
    cfg = config.get("compile_config")
    if compile and cfg:
        _compile_from_config(model, cfg, custom_objects)
        _restore_optimizer(model, arrays, int(config.get("optimizer_variables") or 0), filepath)
    return model


# ----- weights files ------------------------------------------------------------------------

def save_weights(model, filepath, overwrite=True):
    """Saves the model's weights (``model.weights`` in order) to ``*.weights.npz``.

    ``*.weights.h5`` is accepted as the path too (Keras's spelling); the content is NumPy
    ``.npz`` either way.
    """
    filepath = os.fspath(filepath)
    _check_extension(filepath, WEIGHTS_EXTENSIONS, "`save_weights`")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists and overwrite=False.")
    arrays, manifest, _ = _weights_payload(model, include_optimizer=False)
    arrays["__manifest__"] = np.array(json.dumps({
        "aenn_version": _version(), "format_version": FORMAT_VERSION, "weights": manifest}))
    data = _npz_bytes(arrays)
    _atomic_write(filepath, lambda f: f.write(data))


def load_weights(model, filepath, skip_mismatch=False):
    """Loads weights saved by `save_weights` (or from a model file) into `model`.

    Args:
        model: a built model with the same architecture.
        filepath: a ``.weights.npz`` / ``.weights.h5`` file written by aenn, or an ``.aenn`` /
            ``.keras`` model file.
        skip_mismatch: not supported (must be False); kept for Keras compatibility.

    Raises:
        ValueError: the file is corrupted, or the weights do not match the model (the message
            names the layer and both shapes). Nothing is assigned when any check fails.
    """
    filepath = os.fspath(filepath)
    if skip_mismatch:
        raise ValueError("`skip_mismatch=True` is not supported by aenn.")
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"No file found at {filepath!r}.")
    with open(filepath, "rb") as f:
        head = f.read(8)
    if head.startswith(b"\x89HDF"):
        raise ValueError(
            f"{filepath} is an HDF5 file (written by Keras/h5py); aenn reads only its own "
            "weights format (NumPy .npz).")
    if filepath.endswith(MODEL_EXTENSIONS + LEGACY_EXTENSIONS) and \
            not filepath.endswith(WEIGHTS_EXTENSIONS):
        _, config, weights_bytes = _read_model_file(filepath)
        arrays, manifest = _load_npz(weights_bytes, filepath), config.get("weights")
    else:
        arrays = _load_npz(filepath, filepath)
        manifest = None
        if "__manifest__" in arrays:
            try:
                manifest = json.loads(str(arrays["__manifest__"])).get("weights")
            except (ValueError, AttributeError):
                manifest = None
    _assign(model, arrays, manifest, filepath)
