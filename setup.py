"""Builds the C extension aenn._core; everything else is in pyproject.toml.

Extra compiler flags come from the environment variable AENN_CFLAGS (CI uses it for
-Werror and for the sanitizer build). Never -march=native, never -ffast-math: the
wheel must run on every x86-64/arm64 CPU and give the same bits everywhere.
"""

import glob
import os
import sys

from concurrent.futures import ThreadPoolExecutor

import numpy
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

sources = sorted(glob.glob("csrc/*.c")) + sorted(glob.glob("csrc/py/*.c"))
# the convolution kernels (conv_kernels.inc once per ISA) take most of a build: start them first
sources.sort(key=lambda path: not os.path.basename(path).startswith("conv_kernels_"))

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


class ParallelBuildExt(build_ext):
    """Compiles the extension's C files on all cores (one compiler process per file; setuptools
    alone runs them one after another). The three conv_kernels_<isa>.c files take most of a
    build: they are listed first so that the other files compile beside them."""

    def build_extension(self, ext):
        compile_one_by_one = self.compiler.compile

        def compile_in_parallel(sources, *args, **kwargs):
            with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
                objects = pool.map(lambda src: compile_one_by_one([src], *args, **kwargs), sources)
                return [obj for objs in objects for obj in objs]

        self.compiler.compile = compile_in_parallel
        try:
            super().build_extension(ext)
        finally:
            self.compiler.compile = compile_one_by_one


setup(
    cmdclass={"build_ext": ParallelBuildExt},
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
