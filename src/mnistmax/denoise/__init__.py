"""Denoising autoencoders end to end: training runner, reference classifier, evaluation sweep
against classical baselines, and figures (see ``mnistmax denoise``); the presets live in
:mod:`mnistmax.recipes.denoise`.

May import: data, eval, methods, noise, training, viz. Imported by the denoising family and the CLI.
"""
