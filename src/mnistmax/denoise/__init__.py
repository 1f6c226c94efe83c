"""Denoising autoencoders end to end: presets, training runner, reference classifier,
evaluation sweep against classical baselines, and figures (see ``mnistmax denoise``)."""
