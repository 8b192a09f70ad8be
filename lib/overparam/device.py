"""Devices and dtypes: where the course's tensors live (all chapters).

``resolve_device("auto")`` picks the GPU when there is one, so every lesson uses a GPU when
present and runs unchanged on a laptop or in Binder.
"""

from __future__ import annotations

import numpy as np
import torch

DEFAULT_DTYPE = torch.float64
"""float64 wherever a lesson compares with theory; lessons that need speed say float32."""

_DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Return the torch device for ``"auto"``, ``"cpu"``, ``"cuda"`` (or ``"cuda:k"``).

    ``"auto"`` (or None) is CUDA when a GPU is visible, else the CPU. Asking for ``"cuda"``
    on a machine without a GPU is an error that says so, rather than a silent CPU run.
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(device, torch.device):
        dev = device
    elif isinstance(device, str):
        try:
            dev = torch.device(device)
        except RuntimeError:
            raise ValueError(
                f"unknown device {device!r}: use one of {_DEVICE_CHOICES} (or 'cuda:0', ...)"
            ) from None
    else:
        raise TypeError(f"device must be a string such as 'auto', 'cpu' or 'cuda', not {device!r}")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device='cuda' was asked for, but torch sees no CUDA GPU on this machine "
            f"(torch {torch.__version__}). Use device='auto' to run on the GPU when there is "
            "one and on the CPU otherwise, or device='cpu'."
        )
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device {device!r} is not supported: use one of {_DEVICE_CHOICES}")
    return dev


def as_tensor(x, *, dtype: torch.dtype | None = None, device=None) -> torch.Tensor:
    """A torch tensor from a tensor, numpy array or nested list, keeping a tensor's device and
    dtype unless told otherwise (numpy float64 stays float64)."""
    if isinstance(x, torch.Tensor):
        t = x
    elif isinstance(x, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(x))
    else:
        t = torch.as_tensor(np.asarray(x))
    if dtype is None and not torch.is_floating_point(t):
        dtype = DEFAULT_DTYPE
    if dtype is not None or device is not None:
        t = t.to(device=device if device is not None else t.device, dtype=dtype or t.dtype)
    return t
