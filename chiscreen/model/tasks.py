"""The model's tasks as data: one :class:`TaskSpec` per task in the :data:`TASKS` registry.

Everything task-specific derives from here: the head outputs of a model, the loss of each task,
the default loss weights and batch sizes, the label column of training tables, the chi heads a
screen can use (``ScreenConfig.head``), the result columns of ``predict`` and the ``std_scale``
keys of an artifact.

    from chiscreen.model.tasks import TASKS, TaskSpec, register_task
    register_task(TaskSpec(name="chi_oracle", label="chi_oracle", kind="chi", outputs=("A_oracle", "B_oracle"),
                           c_output="C_oracle", weight=0.2, head="oracle", default=False))

Adding a task = one ``TaskSpec`` plus rows carrying its label column (the toy-task test in
tests/unit/model/test_tasks.py does exactly that). Kinds:

- ``"chi"``: chi(T) = A + B/T (+ C/T^2) with A dimensionless, B in Kelvin, C in Kelvin^2; the
  loss is the MSE on the standardised target; the raw ensemble std is multiplied by
  ``std_scale[name]``.
- ``"binary"``: one logit output; loss binary cross-entropy; predictions are probabilities.

Registration order is the head's output order: base outputs of every task of a model in
registry order, then the C outputs of its chi tasks (for the three reference tasks that gives
the format-v1 order logit, A_comp, B_comp, A_exp, B_exp[, C_comp, C_exp]).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal, Sequence

from chiscreen.errors import ConfigError
from chiscreen.registry import Registry


@dataclass(frozen=True)
class TaskSpec:
    """One task of the multitask model.

    Attributes:
        name: task name, as in ``data.tasks`` of a training config.
        label: label column of a training table (e.g. ``chi``, ``chi_computed``, ``soluble``).
        kind: ``"chi"`` (chi(T) regression) or ``"binary"`` (0/1 classification).
        outputs: base head outputs: ``(A, B)`` names for a chi task, ``(logit,)`` for a binary one.
        c_output: name of the C/T^2 output of a chi task (used when ``model.use_c_term``).
        weight: default loss weight (``loss.weights`` overrides it).
        batch_size: default mini-batch size (``optim.batch_sizes`` overrides it).
        head: short name of a chi task for ``ScreenConfig.head`` / ``--head`` (e.g. "exp").
        result_prefix: prefix of the predict result columns (``{prefix}_mean``, ``{prefix}_std``
            for chi; ``{prefix}``, ``{prefix}_std`` for binary).
        default: trained by default (in ``data.tasks`` of a default config) and always part of
            the head of a new model (the reference tasks); a task with ``default=False`` joins
            the head only when a config lists it.
        label_T_K: temperature (Kelvin) of label rows without one (binary tasks), else None.
        description: one line for docs / help.
    """

    name: str
    label: str
    kind: Literal["chi", "binary"]
    outputs: tuple[str, ...]
    c_output: str | None = None
    weight: float = 0.0
    batch_size: int = 32
    head: str | None = None
    result_prefix: str = ""
    default: bool = True
    label_T_K: float | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("chi", "binary"):
            raise ConfigError(f"task {self.name!r}: kind {self.kind!r}, expected 'chi' or 'binary'")
        if self.kind == "chi" and len(self.outputs) != 2:
            raise ConfigError(f"task {self.name!r}: a chi task has two base outputs (A, B), got {self.outputs}")
        if self.kind == "binary" and len(self.outputs) != 1:
            raise ConfigError(f"task {self.name!r}: a binary task has one output (logit), got {self.outputs}")

    @property
    def is_chi(self) -> bool:
        return self.kind == "chi"

    @property
    def loss(self) -> str:
        """"mse" (standardised target) for chi tasks, "bce" for binary ones."""
        return "mse" if self.is_chi else "bce"

    @property
    def std_scale_key(self) -> str | None:
        """Key of this task's factor in ``ChiEnsemble.std_scale`` (chi tasks only)."""
        return self.name if self.is_chi else None

    @property
    def prediction_key(self) -> str:
        """Key of the per-member values in :func:`chiscreen.model.posterior.ensemble_predict`:
        the task name for chi (chi(T)), ``{prefix}`` (a probability) for binary."""
        return self.name if self.is_chi else (self.result_prefix or f"p_{self.name}")

    def chi_outputs(self, use_c_term: bool) -> tuple[str, str, str | None]:
        """(A, B, C or None) output names of a chi task."""
        if not self.is_chi:
            raise ConfigError(f"task {self.name!r} is not a chi task")
        return self.outputs[0], self.outputs[1], (self.c_output if use_c_term else None)

    def result_columns(self) -> list[str]:
        p = self.result_prefix or self.name
        return [f"{p}_mean", f"{p}_std"] if self.is_chi else [p, f"{p}_std"]


TASKS: Registry[TaskSpec] = Registry("task")

PRIMARY_TASK = "chi_exp"  # the chi of verdicts, screens and the A/B result columns


def register_task(spec: TaskSpec) -> TaskSpec:
    """Add ``spec`` to :data:`TASKS` (an output name already used by another task is an error)."""
    for other in (TASKS[n] for n in TASKS.ordered()):
        if other.name == spec.name:
            continue
        clash = set(_names(other)) & set(_names(spec))
        if clash:
            raise ConfigError(f"task {spec.name!r}: outputs {sorted(clash)} already belong to task {other.name!r}")
        if spec.head and spec.head == other.head:
            raise ConfigError(f"task {spec.name!r}: head name {spec.head!r} already belongs to task {other.name!r}")
    TASKS.register(spec.name)(spec)
    return spec


def _names(s: TaskSpec) -> list[str]:
    return [*s.outputs, *([s.c_output] if s.c_output else [])]


register_task(TaskSpec(
    name="soluble", label="soluble", kind="binary", outputs=("logit",), weight=0.2, batch_size=64,
    result_prefix="p_soluble", label_T_K=298.15, description="solubility (0/1), curated PolySol labels"))
register_task(TaskSpec(
    name="chi_comp", label="chi_computed", kind="chi", outputs=("A_comp", "B_comp"), c_output="C_comp",
    weight=0.4, head="comp", result_prefix="chi_comp", description="computed chi (COSMO-RS, reference data)"))
register_task(TaskSpec(
    name="chi_exp", label="chi", kind="chi", outputs=("A_exp", "B_exp"), c_output="C_exp",
    weight=0.4, head="exp", result_prefix="chi", description="experimental chi"))
register_task(TaskSpec(
    name="chi_oracle", label="chi_oracle", kind="chi", outputs=("A_oracle", "B_oracle"), c_output="C_oracle",
    weight=0.2, head="oracle", result_prefix="chi_oracle", default=False,
    description="chiscreen's own xtb -> COSMO-SAC chi (never mixed with the COSMO-RS values); off by default"))

# format-v1 artifacts carry no task list: they had exactly these
V1_TASKS = ("soluble", "chi_comp", "chi_exp")


def get_task(name: str) -> TaskSpec:
    return TASKS[name]


def all_tasks() -> list[str]:
    """Every registered task, in registration order."""
    return TASKS.ordered()


def default_tasks() -> list[str]:
    """Tasks trained by a default config (``default=True``), in registration order."""
    return [n for n in TASKS.ordered() if TASKS[n].default]


def ordered(names: Iterable[str]) -> list[str]:
    """``names`` (validated) in registration order, without duplicates."""
    want = set(names)
    for n in want:
        TASKS[n]  # raises RegistryError naming the known tasks
    return [n for n in TASKS.ordered() if n in want]


def model_tasks(trained: Sequence[str]) -> list[str]:
    """Tasks in the head of a new model trained on ``trained``: the default tasks (always
    there, as in format v1) plus every trained one, in registration order."""
    return ordered([*default_tasks(), *trained])


def output_names(tasks: Sequence[str], use_c_term: bool) -> list[str]:
    """Head outputs of a model with ``tasks``: base outputs in registry order, then C outputs."""
    specs = [TASKS[n] for n in ordered(tasks)]
    base = [o for s in specs for o in s.outputs]
    cs = [s.c_output for s in specs if s.is_chi and s.c_output] if use_c_term else []
    return base + cs


def chi_tasks(tasks: Sequence[str] | None = None) -> list[str]:
    return [n for n in (ordered(tasks) if tasks is not None else TASKS.ordered()) if TASKS[n].is_chi]


def binary_tasks(tasks: Sequence[str] | None = None) -> list[str]:
    return [n for n in (ordered(tasks) if tasks is not None else TASKS.ordered()) if not TASKS[n].is_chi]


def head_names() -> list[str]:
    """Screen chi heads (``ScreenConfig.head`` / CLI choices), e.g. ["comp", "exp", "oracle"]."""
    return sorted(TASKS[n].head for n in TASKS.ordered() if TASKS[n].is_chi and TASKS[n].head)


def task_of_head(head: str) -> TaskSpec:
    """The chi task of a screen head name ("exp" -> chi_exp); a task name is accepted too."""
    for n in TASKS.ordered():
        s = TASKS[n]
        if s.is_chi and (s.head == head or s.name == head):
            return s
    raise ConfigError(f"unknown chi head {head!r}; expected one of {head_names()}")


def label_columns(tasks: Sequence[str] | None = None) -> list[str]:
    return [TASKS[n].label for n in (ordered(tasks) if tasks is not None else TASKS.ordered())]


def task_of_label(column: str) -> TaskSpec | None:
    for n in TASKS.ordered():
        if TASKS[n].label == column:
            return TASKS[n]
    return None
