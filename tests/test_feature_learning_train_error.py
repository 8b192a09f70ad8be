"""Chapter 15: FeatureRun.train_error, checked against the square loss it must respect."""
import torch

from overparam.data import sphere_data
from overparam.scaling import feature_learning_run


def test_train_error_bounded_by_loss():
    # a misclassified point has y f <= 0, so (f - y)^2 >= 1: #errors <= 2 * (1/2-sum loss)
    X, y = sphere_data(16, 5, seed=0)
    Xt, yt = sphere_data(10, 5, seed=1)
    y, yt = torch.sign(y), torch.sign(yt)
    for steps in (5, 400):
        r = feature_learning_run(X, y, Xt, yt, m=200, lr=0.5, steps=steps, seed=0)
        for s in ("ntk", "mean_field"):
            assert 0.0 <= r.train_error[s] <= 1.0
            assert r.train_error[s] * len(y) <= 2 * r.train_loss[s] + 1e-9
    assert r.train_error["ntk"] == 0.0 and r.train_loss["ntk"] < 0.5   # 400 steps: fitted
