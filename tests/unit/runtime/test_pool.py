"""The supervised pool: values and reasons, wall time, memory cap on the child only, respawn."""
import resource

import pytest

from chiscreen.errors import ConfigError
from chiscreen.runtime import SupervisedPool, run_inline


def test_values_in_order_and_failures_are_reasons():
    with SupervisedPool("chiscreen.runtime._probe:square", workers=2) as pool:
        outs = pool.map([1, 2, 3, 4, 5])
    assert [o.value for o in outs] == [1, 4, 9, 16, 25] and all(o.ok for o in outs)
    outs = SupervisedPool("chiscreen.runtime._probe:fail", workers=1).map(["bad molecule"])
    assert outs[0].kind == "error" and "ValueError: bad molecule" in outs[0].reason


def test_timeout_kills_and_respawns_the_worker():
    pool = SupervisedPool("chiscreen.runtime._probe:sleep", workers=1, timeout_s=0.5)
    outs = pool.map([30, 0.01, 0.02])
    assert [o.kind for o in outs] == ["timeout", "ok", "ok"]
    assert outs[0].seconds < 10 and "0.5 s" in outs[0].reason
    assert pool.respawns >= 1


def test_crash_is_one_reason_and_the_rest_runs():
    pool = SupervisedPool("chiscreen.runtime._probe:crash", workers=1)
    pool.submit("a", 3)
    outs = []
    while pool.pending:
        outs += pool.wait()
    pool.close()
    assert outs[0].index == "a" and outs[0].kind == "crashed" and "exit code 3" in outs[0].reason
    # a crashing item among good ones: the good ones still finish
    with SupervisedPool("chiscreen.runtime._probe:allocate", workers=1, mem_limit_mb=600) as p2:
        outs = p2.map([1, 4000, 2])
    assert [o.kind for o in outs] == ["ok", "memory", "ok"], [o.reason for o in outs]
    assert "600 MB" in outs[1].reason


def test_memory_cap_applies_to_the_child_only():
    before = resource.getrlimit(resource.RLIMIT_AS)
    outs = SupervisedPool("chiscreen.runtime._probe:rlimit_as", workers=1, mem_limit_mb=800).map([None])
    assert outs[0].value == 800 << 20
    assert resource.getrlimit(resource.RLIMIT_AS) == before


def test_resubmit_after_outcome_and_inline_contract():
    pool = SupervisedPool("chiscreen.runtime._probe:square", workers=2)
    pool.submit(0, 3)
    seen = []
    while pool.pending:
        for o in pool.wait():
            seen.append(o.value)
            if o.value == 9:
                pool.submit(1, 4)  # e.g. a retry
    pool.close()
    assert sorted(seen) == [9, 16]
    assert [o.value for o in run_inline("chiscreen.runtime._probe:square", [2, 3])] == [4, 9]


def test_bad_settings():
    for kw in ({"workers": 0}, {"timeout_s": 0}, {"mem_limit_mb": -1}):
        with pytest.raises(ConfigError):
            SupervisedPool("chiscreen.runtime._probe:square", **kw)
    with pytest.raises(ConfigError):
        SupervisedPool("no_colon")
