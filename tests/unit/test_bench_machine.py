"""`ocr bench` names the CPU and its SIMD extensions: its figures compare only between alike machines."""

from __future__ import annotations

from ocr_tools import bench

CPUINFO = """processor\t: 0
model name\t: AMD EPYC 9R14 96-Core Processor
flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512_vnni
"""


def test_the_cpu_and_its_simd_are_read_from_cpuinfo(monkeypatch):
    monkeypatch.setattr(bench, "_cpuinfo", lambda: CPUINFO)
    assert bench.cpu_name() == "AMD EPYC 9R14 96-Core Processor"
    assert bench.simd_flags() == ["avx2", "fma", "avx512f", "avx512_vnni"]


def test_no_cpuinfo_names_nothing(monkeypatch):
    monkeypatch.setattr(bench, "_cpuinfo", lambda: "")
    assert bench.cpu_name() is None and bench.simd_flags() == []
