import os

import pytest
import torch

os.environ.setdefault("MPLBACKEND", "Agg")

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
