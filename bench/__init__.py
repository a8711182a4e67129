"""Benchmarks: the labs' pipelines against the course's recipes, measured in one run."""
