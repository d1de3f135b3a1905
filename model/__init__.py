"""Model code: the CRNN, synthetic data, training, export and evaluation.

Imports the engine's charset and preprocessing (one definition for training and
serving); the engine never imports this package or TensorFlow.
"""
