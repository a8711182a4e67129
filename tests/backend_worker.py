"""One Keras backend's half of ``tests/test_backends.py``, run as
``KERAS_BACKEND=<backend> python tests/backend_worker.py FOLDER SOURCE...`` (Keras picks its
backend once per process): predict the shared inputs with the models saved under each SOURCE
backend, and save TensorFlow's models again under this backend."""

import sys
from pathlib import Path

import labs  # noqa: F401  (before Keras: the labs' defaults and a quiet TensorFlow)
import keras
import numpy as np

from labs import saving
from labs.poetry import models, transformer  # noqa: F401  (their layers register for loading)

MODELS = ("course", "every-step-lstm", "transformer")


def predictions(folder, source):
    """The models saved under ``source``, and what each predicts for its shared inputs."""
    inputs = np.load(folder / "inputs.npz")
    loaded = {name: saving.load_model(folder / source / f"{name}.keras", "the test")
              for name in MODELS}
    return loaded, {name: np.asarray(model.predict_on_batch(inputs[name]), np.float32)
                    for name, model in loaded.items()}


def main(folder, sources):
    folder, backend = Path(folder), keras.backend.backend()
    results = {}
    for source in sources:
        loaded, predicted = predictions(folder, source)
        results.update({f"{source}/{name}": values for name, values in predicted.items()})
        if source == "tensorflow":
            (folder / backend).mkdir(exist_ok=True)
            for name, model in loaded.items():
                model.save(folder / backend / f"{name}.keras")
    np.savez(folder / f"predictions-{backend}.npz", **results)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
