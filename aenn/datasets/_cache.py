"""The data-set cache: where files live, checksums, atomic downloads and the IDX format.

Files are looked up in the cache folder ``AENN_DATA_DIR`` (default ``~/.aenn/datasets``).
A missing file is downloaded from its public mirror with ``urllib`` into a temporary file in
the same folder, its SHA-256 checked, then renamed into place (an interrupted download never
leaves a half-written file under the real name). Without network access the error says which
file to download, from where, and where to put it.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile

import numpy as np

KERAS_MIRROR = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def data_dir():
    """The cache folder: ``$AENN_DATA_DIR`` or ``~/.aenn/datasets`` (not created here)."""
    folder = os.environ.get("AENN_DATA_DIR")
    if not folder:
        folder = os.path.join(os.path.expanduser("~"), ".aenn", "datasets")
    return os.path.abspath(os.path.expanduser(folder))


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_maybe_gzip(path):
    """The (decompressed) bytes of `path`; gzip is recognised by its magic number."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, gzip.BadGzipFile) as e:
            raise ValueError(
                f"The file {path} is a corrupted or truncated gzip file ({e}). Delete it and "
                "download it again."
            ) from None
    return data


def check_sha256(data_or_path, expected, what):
    """Raises ValueError when the SHA-256 of bytes (or of a file) is not `expected`."""
    if isinstance(data_or_path, (bytes, bytearray, memoryview)):
        got = sha256_bytes(data_or_path)
    else:
        got = sha256_file(data_or_path)
    if got != expected:
        raise ValueError(
            f"Checksum mismatch for {what}: expected SHA-256 {expected}, got {got}. The file is "
            "corrupted, truncated or not the expected version; delete it and download it again."
        )


def _urlopen(url, timeout):
    # Indirection so tests can simulate an offline machine; urllib is imported only when needed
    # (it pulls in http/ssl, too slow for `import aenn`).
    import urllib.request

    return urllib.request.urlopen(url, timeout=timeout)


def download(url, dest, verify=None, timeout=60, instructions=""):
    """Downloads `url` to `dest` atomically.

    Args:
        url: the source URL.
        dest: the final path; its folder is created.
        verify: optional callable ``verify(data_bytes)`` raising ValueError on bad content;
            the file is only renamed into place when it passes.
        instructions: appended to the error raised when the download fails.
    Returns:
        `dest`.
    """
    folder = os.path.dirname(dest)
    try:
        with _urlopen(url, timeout) as response:
            data = response.read()
    except (OSError, ValueError) as e:  # urllib.error.URLError is an OSError
        raise FileNotFoundError(
            f"Could not download {url} ({getattr(e, 'reason', e)}). {instructions}".rstrip()
        ) from None
    if verify is not None:
        verify(data)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".download-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return dest


_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def parse_idx(data, what="IDX data"):
    """Parses the bytes of an IDX file (big-endian header) into a native-endian NumPy array."""
    data = bytes(data)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(
            f"{what} is not an IDX file (bad magic number {data[:4].hex() or 'empty'}); the file "
            "is corrupted or of the wrong kind."
        )
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{what} is truncated: its header needs {header} bytes, got {len(data)}.")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(
            f"{what} is truncated or corrupted: a {shape} array of {dtype.name} needs "
            f"{expected} bytes, the file has {len(data)}."
        )
    arr = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def find_file(name, folders):
    """The first existing `name` or `name.gz` in `folders`, or None."""
    for folder in folders:
        for candidate in (name, name + ".gz"):
            path = os.path.join(folder, candidate)
            if os.path.isfile(path):
                return path
    return None


def load_idx_set(title, files, folders, download_folder, base_url):
    """Loads the four IDX files of an MNIST-style data set.

    Args:
        title: the data set's name for messages.
        files: mapping IDX file name (without .gz) -> SHA-256 of its decompressed content.
        folders: folders searched in order for ``name`` or ``name.gz``.
        download_folder: where missing files are downloaded (as ``name.gz``).
        base_url: the mirror; ``base_url + name + ".gz"`` is downloaded.
    Returns:
        ``(x_train, y_train), (x_test, y_test)``.
    """
    arrays = {}
    for name, digest in files.items():
        path = find_file(name, folders)
        if path is None:
            url = base_url + name + ".gz"
            dest = os.path.join(download_folder, name + ".gz")

            def verify(data, name=name, digest=digest, url=url):
                try:
                    raw = gzip.decompress(data)
                except (OSError, EOFError) as e:
                    raise ValueError(f"The download of {url} is not a valid gzip file ({e}).") \
                        from None
                check_sha256(raw, digest, f"{url} (decompressed)")

            path = download(url, dest, verify, instructions=(
                f"{title} was not found in {' or '.join(folders)}. Download {url} on a machine "
                f"with internet access and put it at {dest} (the uncompressed file is accepted "
                "too), or set AENN_DATA_DIR to the folder that holds it."))
        data = read_maybe_gzip(path)
        check_sha256(data, digest, f"{path} (decompressed content)")
        arrays[name] = parse_idx(data, path)
    names = list(files)
    return (arrays[names[0]], arrays[names[1]]), (arrays[names[2]], arrays[names[3]])
