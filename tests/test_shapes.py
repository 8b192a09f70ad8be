"""A network built for d = 7 given data with d = 5: every function that takes a model and data
says so with a ValueError naming both dimensions (never torch's bare RuntimeError).

The check is ``data.check_model_input`` (or the models' own forward check, which names both
numbers too). ``sweep``, ``figure1`` and ``smallest_width_that_trains`` take no model: they
build their networks from X's dimension, so they cannot disagree with it (tested below).
"""

from __future__ import annotations

import re

import pytest
import torch

from overparam import classification, deep, kernels, landscape, linearize, train
from overparam.data import check_model_input, model_input_dim, sphere_data
from overparam.experiments.figure1 import smallest_width_that_trains
from overparam.models import DeepReLU, TwoLayerReLU
from overparam.sweep import sweep

D_MODEL, D_DATA, N, M = 7, 5, 4, 9
X, Y = sphere_data(N, D_DATA, seed=1, labels="sign")
X_OK, Y_OK = sphere_data(N, D_MODEL, seed=1, labels="sign")


def two_layer():
    return TwoLayerReLU(D_MODEL, M, seed=0, device="cpu")


def deep_net():
    return DeepReLU(D_MODEL, M, 2, seed=0, device="cpu")


def sequential():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(D_MODEL, M, dtype=X.dtype), torch.nn.ReLU(),
                               torch.nn.Linear(M, 1, dtype=X.dtype))


def _delta(model):
    return {k: torch.zeros_like(v) for k, v in model.named_parameters()}


CALLS = {
    "train (GD, two-layer)": (two_layer, lambda m, X, y: train.train(m, X, y, lr=0.1, steps=1)),
    "train (SGD, two-layer)": (two_layer, lambda m, X, y: train.train(m, X, y, lr=0.1, steps=1,
                                                                       batch_size=2)),
    "train (deep)": (deep_net, lambda m, X, y: train.train(m, X, y, lr=0.1, steps=1)),
    "suggested_lr (two-layer)": (two_layer, lambda m, X, y: train.suggested_lr(m, X)),
    "suggested_lr (deep)": (deep_net, lambda m, X, y: train.suggested_lr(m, X)),
    "gram_matrix (two-layer)": (two_layer, lambda m, X, y: kernels.gram_matrix(m, X)),
    "gram_matrix (deep)": (deep_net, lambda m, X, y: kernels.gram_matrix(m, X)),
    "empirical_ntk": (deep_net, lambda m, X, y: kernels.empirical_ntk(m, X)),
    "empirical_ntk (Y)": (deep_net, lambda m, X, y: kernels.empirical_ntk(m, X_OK, X)),
    "empirical_ntk (nn.Sequential)": (sequential, lambda m, X, y: kernels.empirical_ntk(m, X)),
    "deep.trajectory": (deep_net, lambda m, X, y: deep.trajectory(m, X, y, lr=0.1, steps=2,
                                                                  every=1)),
    "deep.layer_gradients": (deep_net, lambda m, X, y: deep.layer_gradients(m, X, y)),
    "deep.hidden_norms": (deep_net, lambda m, X, y: deep.hidden_norms(m, X)),
    "deep.representation_distances": (deep_net,
                                      lambda m, X, y: deep.representation_distances(m, X)),
    "landscape.gd_step_prediction": (two_layer,
                                     lambda m, X, y: landscape.gd_step_prediction(m, X, y, 0.1)),
    "landscape.loss_along_path": (two_layer, lambda m, X, y: landscape.loss_along_path(
        m, landscape.permute_neurons(m), X, y)),
    "linearize.taylor_model": (deep_net, lambda m, X, y: linearize.taylor_model(m, X, _delta(m))),
    "linearize.train_linearized": (deep_net, lambda m, X, y: linearize.train_linearized(
        m, X, y, lr=0.1, steps=1)),
    "classification.last_layer_gradient": (deep_net, lambda m, X, y:
                                           classification.last_layer_gradient(m, X, y)),
}


def _names_both(message: str) -> bool:
    numbers = {int(t) for t in re.findall(r"\d+", message)}
    return {D_MODEL, D_DATA} <= numbers


@pytest.mark.parametrize("name", sorted(CALLS))
def test_dimension_mismatch_is_a_clear_error(name):
    build, call = CALLS[name]
    with pytest.raises(ValueError) as err:
        call(build(), X, Y)
    assert _names_both(str(err.value)), str(err.value)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_matching_dimension_passes(name):
    """The same calls with data of the model's dimension run (the check is not too eager)."""
    build, call = CALLS[name]
    if "(Y)" in name:
        kernels.empirical_ntk(build(), X_OK, X_OK)
    else:
        call(build(), X_OK, Y_OK)


def test_helper():
    net = two_layer()
    assert model_input_dim(net) == D_MODEL
    assert model_input_dim(sequential()) == D_MODEL
    check_model_input(net, X_OK)                      # no error
    with pytest.raises(ValueError, match=r"d = 5 .*built for d = 7"):
        check_model_input(net, X)
    with pytest.raises(ValueError, match=r"^Y has"):
        check_model_input(net, X, name="Y")


def test_a_module_whose_layers_are_registered_out_of_order_is_not_guessed_at():
    """Registration order is not forward order: a head registered before its body must not
    be taken for the first layer (that would refuse correct data)."""
    class HeadFirst(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.head = torch.nn.Linear(16, 1)       # registered first, applied last
            self.body = torch.nn.Linear(D_MODEL, 16)

        def forward(self, x):
            return self.head(torch.relu(self.body(x))).squeeze(-1)

    net = HeadFirst().double()
    assert model_input_dim(net) is None
    check_model_input(net, X_OK)                     # no false refusal
    kernels.empirical_ntk(net, X_OK)


def test_runners_without_a_model_build_for_the_data():
    res = sweep([3, 5], [0], X, Y, lr=0.1, steps=1, device="cpu")
    assert res.loss.shape == (2, 1, 2)
    width, res = smallest_width_that_trains(X, Y, [3, 5], lr=0.1, steps=1, seeds=(0,))
    assert res.loss.shape == (2, 1, 2)
