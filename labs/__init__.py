"""rnn-labs: recurrent networks for NLP, run for real on a laptop CPU."""

import os

# TensorFlow prints CUDA probing and oneDNN notices on every import; a student on a CPU
# laptop needs none of them. Set before any lab imports TensorFlow; an explicit
# setting in the environment wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import logging  # noqa: E402

# tf.function retracing notices (ragged batches have varying lengths by design).
logging.getLogger("tensorflow").setLevel(logging.ERROR)
