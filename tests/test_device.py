import numpy as np
import pytest
import torch

from conftest import cuda
from overparam.device import as_tensor, resolve_device


def test_auto_and_cpu():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="no CUDA GPU"):
        resolve_device("cuda")


def test_unknown_device():
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device("tpu-ish")
    with pytest.raises(TypeError):
        resolve_device(3)


def test_as_tensor_keeps_numpy_dtype():
    assert as_tensor(np.zeros(3)).dtype == torch.float64
    assert as_tensor(np.zeros(3, dtype=np.float32)).dtype == torch.float32
    assert as_tensor([1, 2]).dtype == torch.float64


@cuda
def test_training_on_cuda_matches_cpu():
    from overparam.data import sphere_data
    from overparam.kernels import empirical_ntk, h_infinity
    from overparam.models import DeepReLU, TwoLayerReLU
    from overparam.train import train

    X, y = sphere_data(20, 5)
    hc = train(TwoLayerReLU(5, 256, device="cpu"), X, y, lr=0.3, steps=30, record=("loss", "flips"))
    hg = train(TwoLayerReLU(5, 256, device="cuda"), X.cuda(), y.cuda(), lr=0.3, steps=30,
               record=("loss", "flips"))
    assert np.allclose(hc.loss, hg.loss, rtol=1e-8)
    assert h_infinity(X.cuda()).device.type == "cuda"
    net = DeepReLU(5, 64, 2, device="cuda")
    assert torch.allclose(empirical_ntk(net, X.cuda()).cpu(),
                          empirical_ntk(DeepReLU(5, 64, 2, device="cpu"), X), atol=1e-8)
