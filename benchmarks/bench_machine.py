"""What the numbers were measured on: CPU model, Python and package versions."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

#: Distribution names of the measured libraries, in table order.
PACKAGES = ("jwkverify", "cryptography", "PyJWT", "python-jose", "joserfc", "jwcrypto", "Authlib", "jwskate",
            "mcp", "fastmcp")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def base64_decoder() -> str:
    """Which base64url decoder jwkverify uses here: the optional accelerator or the stdlib."""
    from jwkverify._codec.base64url import accelerator_name

    name = accelerator_name()
    if name is None:
        return "standard library (binascii)"
    return f"{name} {metadata.version(name)} (the speedups extra)"


def machine_facts() -> dict[str, object]:
    return {
        "base64_decoder": base64_decoder(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": package_versions(),
    }
