"""Differential privacy for released counts: the discrete Laplace mechanism, from OpenDP.

A figure with sensitivity ``s`` (how much one subject can change it: 1 for a count
of subjects, the contribution bound for a sum) gets integer noise of scale
``s / epsilon``, which is ``epsilon``-differentially private for that figure
(OpenDP's privacy map says so, and ``noise_scale`` checks it). OpenDP draws from
the operating system's cryptographic generator and samples exactly, without the
floating-point flaws of textbook Laplace noise. Its integer Laplace sampler is in
the library's "contrib" set (proved by its authors, not yet by its vetting
committee), which ``_measurement`` enables. OpenDP is the optional extra ``dp``: it
is needed only when ``ALZETTE_BRIDGE_EPSILON`` is set. See docs/bridge.md.
"""

from __future__ import annotations

import importlib.util
import math
from functools import cache
from typing import Any

from django.utils.translation import gettext as _


class PrivacyError(ValueError):
    """A privacy setting the bridge refuses; the message says why."""


def check_epsilon(value: Any) -> float | None:
    """The budget per released cell, or None when differential privacy is off."""
    if value in (None, "", 0):
        return None
    try:
        epsilon = float(value)
    except (TypeError, ValueError):
        raise PrivacyError(_("ALZETTE_BRIDGE_EPSILON must be a number, not %(value)r.")
                           % {"value": value}) from None  # fmt: skip
    if not math.isfinite(epsilon) or epsilon <= 0:
        raise PrivacyError(_("ALZETTE_BRIDGE_EPSILON must be positive, not %(value)r.")
                           % {"value": value})  # fmt: skip
    if importlib.util.find_spec("opendp") is None:
        raise PrivacyError(_("ALZETTE_BRIDGE_EPSILON needs OpenDP: pip install 'alzette[dp]'."))
    return epsilon


@cache
def _measurement(scale: float) -> Any:
    import opendp.prelude as dp

    dp.enable_features("contrib")
    space = dp.atom_domain(T="i64"), dp.absolute_distance(T="i64")
    return dp.m.make_laplace(*space, scale=scale)


def noise_scale(sensitivity: int, epsilon: float) -> float:
    """The scale giving ``epsilon`` for ``sensitivity``, as OpenDP's privacy map states."""
    scale = sensitivity / epsilon
    spent = _measurement(scale).map(sensitivity)
    if spent > epsilon * (1 + 1e-9):  # never spend more than asked
        raise PrivacyError(f"Scale {scale} spends {spent} > {epsilon}.")
    return scale


def noisy(value: int, scale: float) -> int:
    """``value`` plus discrete Laplace noise of ``scale``, clamped at 0 (counts and
    sums of non-negative contributions are never negative)."""
    return max(0, int(_measurement(scale)(int(value))))
