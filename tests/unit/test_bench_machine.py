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


ARM_CPUINFO = """processor\t: 0
BogoMIPS\t: 2100.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm asimddp sve i8mm bf16
CPU implementer\t: 0x41
CPU part\t: 0xd40
"""


def test_an_arm64_cpu_is_named_by_its_part_and_features(monkeypatch):
    """Graviton's /proc/cpuinfo has no "model name" and calls its flags "Features"."""
    monkeypatch.setattr(bench, "_cpuinfo", lambda: ARM_CPUINFO)
    monkeypatch.setattr(bench.platform, "machine", lambda: "aarch64")
    assert bench.cpu_name() == "aarch64 CPU part 0xd40"
    assert bench.simd_flags() == ["asimd", "asimddp", "i8mm", "sve", "bf16"]


def test_no_cpuinfo_names_nothing(monkeypatch):
    monkeypatch.setattr(bench, "_cpuinfo", lambda: "")
    assert bench.cpu_name() is None and bench.simd_flags() == []
