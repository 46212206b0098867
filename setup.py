"""Builds the C extension aenn._core; everything else is in pyproject.toml.

Extra compiler flags come from the environment variable AENN_CFLAGS (CI uses it for
-Werror and for the sanitizer build). Never -march=native, never -ffast-math: the
wheel must run on every x86-64/arm64 CPU and give the same bits everywhere.
"""

import glob
import os
import sys

import numpy
from setuptools import Extension, setup

sources = sorted(glob.glob("csrc/*.c")) + sorted(glob.glob("csrc/py/*.c"))

if sys.platform == "win32":
    compile_args = ["/O2", "/fp:precise"]
    link_args = []
else:
    compile_args = ["-std=c11", "-O3", "-ffp-contract=off", "-fno-math-errno",
                    "-Wall", "-Wextra", "-Wno-unused-parameter",
                    "-Wno-missing-field-initializers", "-Wno-cast-function-type"]
    link_args = ["-lpthread", "-lm"]
    extra = os.environ.get("AENN_CFLAGS", "").split()
    compile_args += extra
    link_args += [f for f in extra if f.startswith("-fsanitize")]

setup(
    ext_modules=[
        Extension(
            "aenn._core",
            sources=sources,
            # headers and the per-ISA kernel includes: editing one rebuilds the extension
            depends=sorted(glob.glob("csrc/*.h")) + sorted(glob.glob("csrc/*.inc")),
            include_dirs=["csrc", numpy.get_include()],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            extra_compile_args=compile_args,
            extra_link_args=link_args,
        )
    ]
)
