"""Tiny task functions that exercise a :class:`~chiscreen.runtime.SupervisedPool` (tests, diagnostics).

Each takes one argument: ``square(x)``, ``sleep(seconds)``, ``allocate(megabytes)`` (bytes
touched, so the address-space cap bites), ``crash(code)`` (the process exits at once, like a
segfault), ``fail(message)`` (raises), ``rlimit_as(_)`` (this process's RLIMIT_AS soft limit).
"""
from __future__ import annotations

import os
import time


def square(x: float) -> float:
    return x * x


def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def allocate(megabytes: int) -> int:
    buf = bytearray(int(megabytes) << 20)
    return len(buf)


def crash(code: int) -> None:
    os._exit(int(code))


def fail(message: str) -> None:
    raise ValueError(message)


def rlimit_as(_: object = None) -> int:
    import resource

    return resource.getrlimit(resource.RLIMIT_AS)[0]


def pid(_: object = None) -> int:
    return os.getpid()
