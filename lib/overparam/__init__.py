"""overparam: the library of the course "Why gradient descent finds global minima of
over-parameterized ReLU networks".

Modules (one idea each): data, models, kernels, train, theory, sweep, plots, widgets, device.
Every public function's docstring names the chapter and the equation it implements.
"""

__version__ = "0.1.0"
