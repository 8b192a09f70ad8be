"""overparam: the library of the course "Why gradient descent finds global minima of
over-parameterized ReLU networks".

Modules, one idea each:

- ``data``: unit-sphere data, labels, input checks, separation (Chapters 1-3, 10, 13)
- ``models``: the two-layer and deep ReLU networks (Chapters 2, 7-14)
- ``kernels``: arc-cosine kernels, H^infty, the two-layer and deep NTK, accurate angles
- ``train``: one loop for GD and SGD (epoch or uniform batches), with records
- ``theory``: what the theorems say for a data set (widths, steps, rates, radii)
- ``sweep``: many widths and seeds in one batched run
- ``stability``: how far the weights move and what that does to H (Chapters 4-5)
- ``linearize``, ``scaling``: the linearized network; lazy versus active training (8-9)
- ``deep``, ``azls_perturbation``: deep networks near initialization (Chapters 10-12b)
- ``landscape``: the loss along paths and one GD step (Chapters 1-2, 11)
- ``classification``: Zou et al.'s setting, region and proof pieces (Chapters 13-14)
- ``generalization``: Arora et al.'s data-dependent bound (Chapter 15)
- ``plots``, ``diagrams``, ``widgets``: figures, schematic pictures, interactive demos
- ``device``: CPU or GPU, default dtype; ``experiments``: paper-scale runs (Figure 1)

Every public function's docstring names the chapter and the equation it implements.
"""

__version__ = "0.1.0"
