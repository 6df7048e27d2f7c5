"""Sweeps: the grammar's functions (``choice``, ``range``, casts, ``sort``) and expansion.

``-S a=1,2 -S b=range(3,5)`` with ``--queue`` queues one experiment per combination.
DVC (``dvc.utils.hydra.get_hydra_sweeps``) groups the overrides by params file, lets
Hydra's BasicSweeper build each file's cartesian product (one entry per key element,
the last override of a key wins but keeps the first one's place), then takes the
product across files. :func:`expand_sweeps` yields the same combinations in the same
order. Ranges follow Hydra: ``stop`` is exclusive; float ranges step in exact decimal
arithmetic (``Decimal(float)``) as Hydra's ``FloatRange`` does.
"""

from __future__ import annotations

import decimal
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .grammar import Override

# More values than this in one range is almost surely a typo (range(0, 1e9)).
MAX_SWEEP_VALUES = 10_000


class SweepError(Exception):
    """A function call or sweep that cannot be evaluated (the grammar adds context)."""


@dataclass
class ChoiceSweep:
    """``a,b,c`` (``simple``) or ``choice(a, b, c)``."""

    items: list[Any]
    simple: bool = False


@dataclass
class RangeSweep:
    """``range(start, stop, step)``: numbers from ``start`` up to, not including, ``stop``."""

    start: int | float
    stop: int | float
    step: int | float = 1


def sweep_values(sweep: ChoiceSweep | RangeSweep) -> tuple[Any, ...]:
    """Every value of ``sweep``, in order. Raises SweepError when empty or too long."""
    if isinstance(sweep, ChoiceSweep):
        for item in sweep.items:
            if isinstance(item, (ChoiceSweep, RangeSweep)):
                raise SweepError("sweeps cannot be nested")
        values = tuple(sweep.items)
    else:
        values = tuple(_range_values(sweep))
    if not values:
        raise SweepError("the sweep has no values")
    return values


def _range_values(sweep: RangeSweep) -> list[int | float]:
    start, stop, step = sweep.start, sweep.stop, sweep.step
    if step == 0:
        raise SweepError("range() step must not be zero")
    if all(isinstance(x, int) for x in (start, stop, step)):
        count = len(range(start, stop, step))  # type: ignore[arg-type]
        if count > MAX_SWEEP_VALUES:
            raise SweepError(f"range() gives {count} values, more than {MAX_SWEEP_VALUES}")
        return list(range(start, stop, step))  # type: ignore[arg-type]
    # hydra.core.override_parser.types.FloatRange
    cur, end, inc = decimal.Decimal(start), decimal.Decimal(stop), decimal.Decimal(step)
    values: list[int | float] = []
    while (cur < end) if inc > 0 else (cur > end):
        values.append(float(cur))
        if len(values) > MAX_SWEEP_VALUES:
            raise SweepError(f"range() gives more than {MAX_SWEEP_VALUES} values")
        cur += inc
    return values


# --- functions ---------------------------------------------------------------------------


def call_function(name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """Evaluate a grammar function call (``choice(1, 2)``, ``range(0, 10, 2)``, ``int(x)``)."""
    from .grammar import _Fail  # grammar errors carry the override text

    func = _FUNCTIONS.get(name)
    if func is None:
        if name in ("interval", "glob", "shuffle", "tag"):
            raise _Fail(f"{name}() is not supported (see docs/params-overrides.md)")
        raise _Fail(f"unknown function '{name}' (known: {', '.join(sorted(_FUNCTIONS))})")
    try:
        return func(*args, **kwargs)
    except (SweepError, TypeError, ValueError) as exc:
        raise _Fail(f"{name}(): {exc}") from None


def _choice(*args: Any) -> ChoiceSweep:
    if not args:
        raise SweepError("empty choice is not legal")
    if len(args) == 1 and isinstance(args[0], ChoiceSweep):
        if not args[0].simple:
            raise SweepError("nesting choices is not supported")
        return ChoiceSweep(args[0].items)
    return ChoiceSweep(list(args))


def _number(name: str, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SweepError(f"{name} must be a number, got {value!r}")
    return value


def _range(start: Any, stop: Any = None, step: Any = 1) -> RangeSweep:
    if stop is None:
        start, stop = 0, start
    return RangeSweep(_number("start", start), _number("stop", stop), _number("step", step))


def _cast(convert: Callable[[Any], Any], *, ranges: bool) -> Callable[..., Any]:
    def cast(*args: Any, value: Any = None) -> Any:
        if args and value is not None:
            raise SweepError("cannot use both positional and named arguments")
        if value is None:
            if not args:
                raise SweepError("no value given")
            value = args[0] if len(args) == 1 else ChoiceSweep(list(args), simple=True)
        return _apply_cast(convert, value, ranges)

    return cast


def _apply_cast(convert: Callable[[Any], Any], value: Any, ranges: bool) -> Any:
    if isinstance(value, dict):
        return {k: _apply_cast(convert, v, ranges) for k, v in value.items()}
    if isinstance(value, list):
        return [_apply_cast(convert, v, ranges) for v in value]
    if isinstance(value, ChoiceSweep):
        return ChoiceSweep([_apply_cast(convert, v, ranges) for v in value.items], value.simple)
    if isinstance(value, RangeSweep):
        if not ranges:
            raise SweepError("a range can only be cast to int or float")
        return RangeSweep(convert(value.start), convert(value.stop), convert(value.step))
    if value is None:
        raise SweepError("cannot cast null")
    return convert(value)


def _to_str(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _to_bool(value: Any) -> bool:
    if isinstance(value, str):
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise SweepError(f"cannot cast {value!r} to bool")
    return bool(value)


def _sort(*args: Any, **options: Any) -> Any:
    unknown = set(options) - {"sweep", "list", "reverse"}
    if unknown:
        raise SweepError(f"unexpected argument {sorted(unknown)[0]!r}")
    reverse = bool(options.get("reverse", False))
    if options.get("list") is not None:
        args = (options["list"],)
    elif options.get("sweep") is not None:
        args = (options["sweep"],)
    if not args:
        raise SweepError("empty sort input")
    if len(args) > 1:
        args = (ChoiceSweep([*args], simple=True),)
    (arg,) = args
    if isinstance(arg, ChoiceSweep):
        return ChoiceSweep(sorted(arg.items, reverse=reverse), arg.simple)
    if isinstance(arg, RangeSweep):
        return ChoiceSweep(sorted(_range_values(arg), reverse=reverse))
    if isinstance(arg, list):
        return sorted(arg, reverse=reverse)
    return arg


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "choice": _choice,
    "range": _range,
    "int": _cast(int, ranges=True),
    "float": _cast(float, ranges=True),
    "str": _cast(_to_str, ranges=False),
    "bool": _cast(_to_bool, ranges=False),
    "sort": _sort,
}


# --- expansion ---------------------------------------------------------------------------


def expand_sweeps(
    overrides: list[Override], *, default_file: str = "params.yaml"
) -> list[list[Override]]:
    """Every combination of the sweeps in ``overrides``, each a list of plain overrides.

    Without a sweep the result is ``[overrides]`` unchanged. With sweeps, overrides are
    grouped by file (first appearance; ``None`` counts as ``default_file``), and within
    a file by key element (``+a`` and ``a`` differ): the last override of a key wins
    and keeps the place of the first. The first group and first key vary slowest,
    as ``itertools.product`` does in DVC.
    """
    if not any(o.is_sweep for o in overrides):
        return [list(overrides)]
    groups: dict[str, dict[str, Override]] = {}
    for override in overrides:
        file = override.file if override.file is not None else default_file
        groups.setdefault(file, {})[override.key_element] = override
    choices: list[list[Override]] = []
    for by_key in groups.values():
        for override in by_key.values():
            if override.sweep is None:
                choices.append([override])
            else:
                choices.append([override.with_value(v) for v in override.sweep])
    return [list(combo) for combo in itertools.product(*choices)]
