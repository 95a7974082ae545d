"""Mode-collapse benchmarks: 2-D Gaussian mixtures (ring8, grid25) and Stacked MNIST.

``mixtures`` defines the data, ``metrics`` the VEEGAN / PacGAN numbers (modes covered, share of
high-quality samples, reverse KL of the mode histogram), ``runner`` trains the MLP GAN on a
mixture, ``table`` aggregates runs over seeds, ``stacked_mnist`` builds and counts Stacked MNIST.
"""
