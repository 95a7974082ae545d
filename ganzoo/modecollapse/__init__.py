"""Mode-collapse benchmarks: 2-D Gaussian mixtures (ring8, grid25) and Stacked MNIST.

The data are datasets of the registry (``ganzoo.data.mixtures``, ``ganzoo.data.stacked_mnist``)
and the numbers metrics of the evaluation (``evaluation.mixture_modes``,
``evaluation.stacked_modes``); here ``runner`` trains the MLP GAN on a mixture,
``stacked_mnist`` the small DCGAN on Stacked MNIST, and ``table`` aggregates runs over seeds.
"""
