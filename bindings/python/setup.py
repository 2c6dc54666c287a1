# SPDX-License-Identifier: MIT
"""Builds libvtime into the package: the C sources of the vtime tree this
folder is part of (../../src, ../../include; the selection of
src/meson.build: the core, src/version.c, on Linux the userspace shim, on
x86-64 Linux the KVM shim), compiled with Python's C compiler into
vtime/libvtime-py.so with the compiler-builtin atomics backend. The package
metadata is in pyproject.toml. Without the C sources (a copy of this folder
alone) the package is pure Python and loads an installed libvtime.so.0."""

import os
import platform
import re
import sys

import setuptools  # noqa: F401 - before distutils: setuptools provides it
from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PRIVATE_NAME = "libvtime-py.so"


def c_files(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".c"))


def have_sources():
    return os.path.exists(os.path.join(ROOT, "src", "core", "pvclock.c")) and \
        os.path.exists(os.path.join(ROOT, "include", "vtime", "version.h.in"))


def meson_version():
    with open(os.path.join(ROOT, "meson.build")) as f:
        m = re.search(r"^\s*version\s*:\s*'(\d+\.\d+\.\d+)'", f.read(), re.M)
    if not m:
        raise SystemExit("setup.py: no version : 'X.Y.Z' in meson.build")
    return m.group(1)


class BuildWithLibrary(build_py):
    """build_py, then libvtime into the built package."""

    def run(self):
        super().run()
        if not have_sources():
            self.announce("vtime: no C sources beside this folder: the package will load an installed "
                          "libvtime.so.0", level=3)
            return
        self.build_library(os.path.join(self.build_lib, "vtime", PRIVATE_NAME))

    def build_library(self, out):
        from distutils.ccompiler import new_compiler
        from distutils.sysconfig import customize_compiler

        temp = os.path.join(os.path.dirname(self.build_lib), "vtime-c")
        inc = os.path.join(temp, "include")
        os.makedirs(os.path.join(inc, "vtime"), exist_ok=True)
        ver = meson_version()
        major, minor, patch = ver.split(".")
        with open(os.path.join(ROOT, "include", "vtime", "version.h.in")) as f:
            text = f.read()
        for k, v in (("@VTIME_MAJOR@", major), ("@VTIME_MINOR@", minor), ("@VTIME_PATCH@", patch),
                     ("@VTIME_VERSION@", ver)):
            text = text.replace(k, v)
        with open(os.path.join(inc, "vtime", "version.h"), "w") as f:
            f.write(text)

        sources = c_files(os.path.join(ROOT, "src", "core")) + [os.path.join(ROOT, "src", "version.c")]
        dirs = [inc, os.path.join(ROOT, "include"), os.path.join(ROOT, "src", "core"), os.path.join(ROOT, "src")]
        if sys.platform.startswith("linux"):
            d = os.path.join(ROOT, "src", "platform", "linux-user")
            sources += c_files(d)
            dirs.append(d)
            if platform.machine() in ("x86_64", "amd64"):
                d = os.path.join(ROOT, "src", "platform", "kvm")
                sources += c_files(d)
                dirs.append(d)
        cc = new_compiler()
        customize_compiler(cc)
        objects = cc.compile(sources, output_dir=temp, include_dirs=dirs,
                             macros=[("_GNU_SOURCE", None), ("VTIME_BUILDING", None),
                                     ("VT_ATOMIC_BACKEND_H", '"atomic/builtin.h"')],
                             extra_preargs=["-std=c11", "-fPIC", "-fvisibility=hidden", "-O2"])
        os.makedirs(os.path.dirname(out), exist_ok=True)
        cc.link_shared_object(objects, out)
        self.announce(f"vtime: built {out} from {len(sources)} C sources of {ROOT}", level=3)


class BinaryDistribution(Distribution):
    """The package holds a shared object: a platform wheel."""

    def has_ext_modules(self):
        return have_sources()


setup(cmdclass={"build_py": BuildWithLibrary}, distclass=BinaryDistribution)
