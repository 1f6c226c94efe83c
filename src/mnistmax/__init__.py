"""mnistmax: representation learning on MNIST-family datasets.

Metric learning, self-supervised pretraining, denoising autoencoders and an evaluation
protocol the field trusts, fast on one CPU and on a GPU alike.
"""

__version__ = "0.1.0"
