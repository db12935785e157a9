"""The parity bounds and the measures they apply to, in one place: the parity tests (through ``harness``) and
``scripts/parity_sweep.py`` (which runs outside pytest, in the torch venv) judge outputs by the same numbers.
numpy only, so either can import it."""

from __future__ import annotations

import numpy as np

TOLERANCE = 1e-4  # on max |onnxruntime − PyTorch| (absolute)
RELATIVE_TOLERANCE = 1e-5  # and on it over max(1, max |PyTorch|): the project's "matches to 1e-5"
FP16_BOUND = 1e-2  # --dtype fp16: max |diff| / max |PyTorch float32|
BF16_BOUND = 5e-2  # --dtype bf16 (bfloat16 keeps 3 fewer significant bits)
WEIGHT_ROUNDING_MARGIN = 1.25  # --dtype bf16 on an ill-conditioned output: at most this × PyTorch's own error with the same rounded weights
QUANTIZED_BOUND = 1e-4  # --quantize: logits vs the float32 export with the same dequantized weights, over max(1, max |reference|)


def tolerance_for(want: np.ndarray, where: np.ndarray | None = None) -> float:
    """The bound a float32 output must meet: 1e-5 of its scale (max |reference|, at least 1) and never more than
    ``TOLERANCE``. Logits of ~5 may then differ by 5e-5, probabilities and small hidden states by 1e-5."""
    return min(TOLERANCE, RELATIVE_TOLERANCE * max(1.0, max_abs(want, where)))


def max_abs(x: np.ndarray, where: np.ndarray | None = None) -> float:
    """max |x| (a reference's scale), with ``max_abs_diff``'s masking and NaN rules."""
    return max_abs_diff(np.zeros_like(x), x, where)


def max_abs_diff(got: np.ndarray, want: np.ndarray, where: np.ndarray | None = None) -> float:
    """max |got - want| in float64 (over the positions where ``where`` is true, broadcast from the left);
    NaN or inf anywhere compared gives inf."""
    g, w = got.astype(np.float64), want.astype(np.float64)
    d = np.abs(g - w)
    if where is not None:
        m = where.astype(bool)
        m = m.reshape(m.shape + (1,) * (d.ndim - m.ndim))
        d = d[np.broadcast_to(m, d.shape)]
    if d.size == 0:
        return 0.0
    v = float(d.max())
    return v if np.isfinite(v) else float("inf")
