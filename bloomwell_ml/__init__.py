"""Bloomwell's ML core, shared by the inference worker, training and the benchmarks.

Submodules: ``labels`` (the label order), ``spec`` (what a model file describes), ``arch`` (architectures),
``io`` (model files), ``preprocess`` (crops → tensors), ``tta`` (test-time views), ``inference`` (the one
prediction function), ``crop`` (the one face-crop geometry), ``faces`` (face detectors), ``paths``.

This ``__init__`` imports nothing: ``bloomwell_ml.labels`` can be used without loading torch or OpenCV
(the gateway does), while the heavy submodules are imported only where they are needed.
"""
