"""deep.batch_size_runs with one step per seed (Chapter 12b: each network's own stable step)."""
import numpy as np
import pytest

from overparam import deep


def test_per_seed_steps_equal_separate_runs_with_each_step():
    X, y = deep.azls_data(4, 6, seed=0)
    kw = dict(m=32, depth=2, batches=[1, 4], target=0.3, max_steps=3000, sampling="uniform")
    both = deep.batch_size_runs(X, y, seeds=[0, 1], lr_full=[0.01, 0.004], **kw)
    for c, (s, lr) in enumerate(((0, 0.01), (1, 0.004))):
        one = deep.batch_size_runs(X, y, seeds=[s], lr_full=lr, **kw)
        np.testing.assert_array_equal(both["iterations"][:, c], one["iterations"][:, 0])
        np.testing.assert_allclose(both["distance"][:, c], one["distance"][:, 0])
    same = deep.batch_size_runs(X, y, seeds=[0, 1], lr_full=[0.01, 0.01], **kw)
    np.testing.assert_array_equal(same["iterations"],
                                  deep.batch_size_runs(X, y, seeds=[0, 1], lr_full=0.01,
                                                       **kw)["iterations"])
    with pytest.raises(ValueError):
        deep.batch_size_runs(X, y, seeds=[0, 1], lr_full=[0.01, 0.02, 0.03], **kw)
