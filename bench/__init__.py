"""Benchmarks: the labs' pipelines against the course's recipes, measured in one run."""

import labs  # noqa: F401  (before Keras: the labs' defaults and a quiet TensorFlow start-up)
