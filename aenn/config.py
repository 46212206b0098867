"""Runtime configuration: thread count and a description of the machine and the build.

The thread pool size defaults to ``AENN_NUM_THREADS`` when set, else the number of PHYSICAL
cores (hyper-threads share one core's vector units, so they do not speed up aenn's kernels).
The default is applied the first time it is needed (`ensure_initialized`, called by
`get_num_threads` and by the engine before running kernels), so ``import aenn`` stays fast.
Results are bitwise identical for any thread count.
"""

from __future__ import annotations

import os
import platform
import sys
import warnings

MAX_THREADS = 256
_initialized = False


def _core():
    from . import _core

    return _core


# ----- CPU description ----------------------------------------------------------------------

def _read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _cpuinfo_blocks():
    text = _read("/proc/cpuinfo")
    blocks = []
    for chunk in text.strip().split("\n\n"):
        info = {}
        for line in chunk.splitlines():
            if ":" in line:
                key, _, value = line.partition(":")
                info[key.strip()] = value.strip()
        if info:
            blocks.append(info)
    return blocks


def _sysctl(name):
    import subprocess

    try:
        out = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=2)
        return out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def _available_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def physical_cores():
    """Number of physical cores usable by this process (never more than the CPUs it may use).

    Linux: unique (physical id, core id) pairs of /proc/cpuinfo, else the /sys topology;
    macOS: ``sysctl hw.physicalcpu``; otherwise ``os.cpu_count()``.
    """
    count = 0
    if sys.platform.startswith("linux"):
        pairs = {(b.get("physical id"), b.get("core id")) for b in _cpuinfo_blocks()
                 if "core id" in b}
        count = len(pairs)
        if not count:
            pairs = set()
            base = "/sys/devices/system/cpu"
            try:
                names = [n for n in os.listdir(base) if n[3:].isdigit() and n.startswith("cpu")]
            except OSError:
                names = []
            for n in names:
                core = _read(f"{base}/{n}/topology/core_id").strip()
                pkg = _read(f"{base}/{n}/topology/physical_package_id").strip()
                if core:
                    pairs.add((pkg, core))
            count = len(pairs)
    elif sys.platform == "darwin":
        value = _sysctl("hw.physicalcpu")
        count = int(value) if value.isdigit() else 0
    if count <= 0:
        count = os.cpu_count() or 1
    return max(1, min(count, _available_cpus()))


def cpu_model():
    if sys.platform.startswith("linux"):
        for b in _cpuinfo_blocks():
            for key in ("model name", "Model", "cpu model", "Hardware"):
                if key in b:
                    return b[key]
    elif sys.platform == "darwin":
        name = _sysctl("machdep.cpu.brand_string")
        if name:
            return name
    return platform.processor() or platform.machine() or "unknown"


_SIMD_NAMES = ("sse2", "sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl",
               "avx512_bf16", "neon", "asimd", "sve")


def simd_features():
    """The SIMD features this CPU reports (subset of sse2, avx, avx2, fma, avx512f, neon, ...)."""
    flags = set()
    if sys.platform.startswith("linux"):
        for b in _cpuinfo_blocks()[:1]:
            flags |= set((b.get("flags", "") + " " + b.get("Features", "")).split())
    elif sys.platform == "darwin":
        flags |= set(_sysctl("machdep.cpu.features").lower().split())
        flags |= set(_sysctl("machdep.cpu.leaf7_features").lower().split())
        if _sysctl("hw.optional.neon") == "1" or platform.machine() == "arm64":
            flags.add("neon")
        flags = {f.replace(".", "_") for f in flags}
        if "avx2_0" in flags:
            flags.add("avx2")
    if platform.machine().lower() in ("arm64", "aarch64"):
        flags.add("neon")
    return [name for name in _SIMD_NAMES if name in flags]


def _vector_width_fp32(isa, features):
    """Floats per vector register for kernel path `isa` ("auto": the widest the CPU has)."""
    if isa == "avx512" or (isa == "auto" and "avx512f" in features):
        return 16
    if isa == "avx2" or (isa == "auto" and "avx2" in features):
        return 8
    if "neon" in features or "asimd" in features or "sse2" in features:
        return 4  # the baseline (SSE2 / NEON) the generic C path is compiled for
    return 1


def selected_isa():
    """The kernel path in use: ``AENN_ISA`` when set, else what the core reports (``"generic"``)."""
    forced = os.environ.get("AENN_ISA", "").strip().lower()
    try:
        core = _core()
        for name in ("get_isa", "isa"):
            fn = getattr(core, name, None)
            if callable(fn):
                return str(fn())
    except ImportError:
        pass
    return forced or "generic"


# ----- threads ------------------------------------------------------------------------------

def _default_threads():
    env = os.environ.get("AENN_NUM_THREADS", "").strip()
    if env:
        try:
            n = int(env)
            if 1 <= n <= MAX_THREADS:
                return n
        except ValueError:
            pass
        warnings.warn(
            f"Ignoring AENN_NUM_THREADS={env!r}: expected an integer in [1, {MAX_THREADS}]; "
            "using the number of physical cores.",
            stacklevel=3,
        )
    return physical_cores()


def ensure_initialized():
    """Applies the default thread count once (idempotent, cheap after the first call)."""
    global _initialized
    if not _initialized:
        _initialized = True
        _core().set_num_threads(_default_threads())


def set_num_threads(n):
    """Sets the number of threads aenn's kernels use (results do not depend on it).

    Args:
        n: an integer in [1, 256].

    Returns:
        The number of threads now in use (fewer if the system refused to start threads).
    """
    global _initialized
    if isinstance(n, bool) or not isinstance(n, int):
        try:
            import numpy as np

            if isinstance(n, np.integer):
                n = int(n)
        except ImportError:  # pragma: no cover
            pass
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(
            f"Invalid value for argument `n`: expected an integer, received n={n!r} "
            f"(of type {type(n).__name__})"
        )
    if not 1 <= n <= MAX_THREADS:
        raise ValueError(
            f"Invalid value for argument `n`: expected an integer in [1, {MAX_THREADS}], "
            f"received n={n}"
        )
    _initialized = True
    return int(_core().set_num_threads(n))


def get_num_threads():
    """The number of threads aenn's kernels use."""
    ensure_initialized()
    return int(_core().get_num_threads())


# ----- show_config --------------------------------------------------------------------------

def _compiler_flags():
    core = None
    try:
        core = _core()
    except ImportError:
        return "unknown (aenn._core is not built)"
    for name in ("build_info", "compiler_flags"):
        value = getattr(core, name, None)
        if callable(value):
            value = value()
        if value:
            return value
    return "unknown"


def cpu_ghz():
    """The CPU's nominal clock in GHz: cpufreq's maximum, else the "@ x.xxGHz" of the model
    name, else /proc/cpuinfo's current "cpu MHz" (macOS: hw.cpufrequency); None if unknown."""
    import re

    khz = _read("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").strip()
    if khz.isdigit() and int(khz) > 0:
        return int(khz) / 1e6
    match = re.search(r"@\s*([0-9.]+)\s*GHz", cpu_model())
    if match:
        return float(match.group(1))
    for b in _cpuinfo_blocks()[:1]:
        try:
            return float(b.get("cpu MHz", "")) / 1e3
        except ValueError:
            pass
    hz = _sysctl("hw.cpufrequency") if sys.platform == "darwin" else ""
    return int(hz) / 1e9 if hz.isdigit() and int(hz) > 0 else None


def peak_fp32_gflops(cores=None, ghz=None, lanes=None, fma_units=2):
    """Nominal FP32 peak in GFLOP/s: cores x GHz x FMA units (2) x vector lanes x 2.

    Defaults: the physical cores, `cpu_ghz()` and the widest vector the CPU reports. This is
    an upper bound: CPUs that split 512-bit operations in two 256-bit halves (AMD Zen 4) or
    lower their clock under vector load reach at most half of it with AVX-512.
    """
    cores = physical_cores() if cores is None else cores
    ghz = cpu_ghz() if ghz is None else ghz
    lanes = _vector_width_fp32("auto", simd_features()) if lanes is None else lanes
    if not ghz:
        return None
    return cores * ghz * fma_units * lanes * 2


def show_config(print_it=True):
    """Describes aenn's build and the machine; prints it and returns it as a dict.

    Keys: ``aenn_version``, ``numpy_version``, ``python_version``, ``platform``,
    ``compiler_flags`` (when the core reports them), ``cpu_model``, ``simd_features`` (what the
    CPU has), ``isa`` (the kernel path in use; ``AENN_ISA`` forces one), ``physical_cores``,
    ``logical_cpus``, ``num_threads`` and ``peak_fp32_inputs`` (the inputs of a nominal FP32
    peak estimate: cores, vector width in floats, FMA, clock in MHz when known), ``cpu_ghz``
    (nominal clock, None if unknown), ``vector_width_fp32`` (the widest the CPU has) and
    ``peak_fp32_gflops_per_core`` (see `peak_fp32_gflops`).
    """
    import numpy

    from . import __version__

    features = simd_features()
    isa = selected_isa()
    cores = physical_cores()
    mhz = None
    for b in _cpuinfo_blocks()[:1]:
        try:
            mhz = float(b.get("cpu MHz", ""))
        except ValueError:
            mhz = None
    width = _vector_width_fp32(isa if isa in ("avx2", "avx512") else "generic", features)
    info = {
        "aenn_version": __version__,
        "numpy_version": numpy.__version__,
        "python_version": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "compiler_flags": _compiler_flags(),
        "cpu_model": cpu_model(),
        "simd_features": features,
        "isa": isa,
        "physical_cores": cores,
        "logical_cpus": os.cpu_count(),
        "num_threads": get_num_threads(),
        "peak_fp32_inputs": {
            "cores": cores,
            "vector_width_fp32": width,
            "cpu_vector_width_fp32": _vector_width_fp32("auto", features),
            "fma": "fma" in features or "neon" in features or "asimd" in features,
            "cpu_mhz": mhz,
        },
    }
    ghz = cpu_ghz()
    lanes = _vector_width_fp32("auto", features)
    info["cpu_ghz"] = ghz
    info["vector_width_fp32"] = lanes
    info["peak_fp32_gflops_per_core"] = peak_fp32_gflops(1, ghz, lanes)
    if print_it:
        width_key = max(len(k) for k in info)
        for key, value in info.items():
            if isinstance(value, list):
                value = " ".join(value) or "-"
            print(f"{key:<{width_key}}  {value}")
    return info
