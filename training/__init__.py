"""Bloomwell training pipeline: datasets, train / evaluate / export for ConvNeXt expression classifiers."""
