"""aenn.config (threads, show_config) and aenn.backend."""

import os
import subprocess
import sys

import numpy as np
import pytest

import aenn._core as core
from aenn import backend, config, naming


def test_set_get_num_threads(restore_core):
    assert config.set_num_threads(1) == 1
    assert config.get_num_threads() == 1
    assert config.set_num_threads(np.int64(2)) == 2
    assert core.get_num_threads() == 2
    for bad in (0, -1, 257):
        with pytest.raises(ValueError, match="Invalid value for argument `n`"):
            config.set_num_threads(bad)
    for bad in (1.5, "2", True, None):
        with pytest.raises(TypeError, match="expected an integer"):
            config.set_num_threads(bad)


def test_physical_cores_sane():
    n = config.physical_cores()
    assert 1 <= n <= (os.cpu_count() or 1)


def _fresh(code, **env):
    full = dict(os.environ, PYTHONPATH=os.getcwd())
    full.pop("AENN_NUM_THREADS", None)
    full.update(env)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out


def test_default_from_env_and_physical_cores():
    code = "import aenn.config as c; print(c.get_num_threads(), c.physical_cores())"
    out = _fresh(code, AENN_NUM_THREADS="1").stdout.split()
    assert out[0] == "1"
    out = _fresh(code).stdout.split()
    assert out[0] == out[1]
    out = _fresh(code, AENN_NUM_THREADS="many")
    assert "Ignoring AENN_NUM_THREADS" in out.stderr
    assert out.stdout.split()[0] == out.stdout.split()[1]


def test_import_is_light():
    # `import aenn` loads the C core and applies the thread count, but no network or plotting code.
    out = _fresh("import sys, aenn; "
                 "print('urllib.request' in sys.modules, 'matplotlib' in sys.modules)")
    assert out.stdout.split() == ["False", "False"]


def test_show_config(capsys, monkeypatch):
    monkeypatch.setenv("AENN_ISA", "generic")
    # the core reads AENN_ISA once, at its first kernel call: force the running core too
    old_isa = core.isa() if hasattr(core, "set_isa") else None
    if old_isa is not None:
        core.set_isa("generic")
    try:
        _check_show_config(capsys)
    finally:
        if old_isa is not None:
            core.set_isa(old_isa)


def _check_show_config(capsys):
    info = config.show_config()
    out = capsys.readouterr().out
    for key in ("aenn_version", "numpy_version", "cpu_model", "simd_features", "num_threads",
                "isa", "peak_fp32_inputs"):
        assert key in info and key in out
    assert info["numpy_version"] == np.__version__
    assert info["isa"] == "generic"
    assert info["num_threads"] == core.get_num_threads()
    assert info["peak_fp32_inputs"]["cores"] == config.physical_cores()
    if sys.platform.startswith("linux") and "avx2" in open("/proc/cpuinfo").read():
        assert "avx2" in info["simd_features"]
    assert config.show_config(print_it=False)["isa"] == "generic"
    assert capsys.readouterr().out == ""


def test_backend_basics():
    assert backend.image_data_format() == "channels_last"
    backend.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="channels_last"):
        backend.set_image_data_format("channels_first")
    assert backend.epsilon() == 1e-7
    assert backend.floatx() == "float32"
    with pytest.raises(ValueError):
        backend.set_floatx("float64")
    assert backend.int_shape(np.zeros((2, 3), np.float32)) == (2, 3)

    class FakeKerasTensor:
        shape = (None, 28, 28, 1)

    assert backend.int_shape(FakeKerasTensor()) == (None, 28, 28, 1)
    with pytest.raises(ValueError):
        backend.int_shape(3)


def test_clear_session_resets_names():
    naming.unique_name("periph_test")
    assert naming.unique_name("periph_test") == "periph_test_1"
    backend.clear_session()
    assert naming.unique_name("periph_test") == "periph_test"
