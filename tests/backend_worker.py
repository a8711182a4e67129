"""One Keras backend's half of ``tests/test_backends.py``, run as
``KERAS_BACKEND=<backend> python tests/backend_worker.py FOLDER SOURCE...`` (Keras picks its
backend once per process): predict the shared inputs with the models saved under each SOURCE
backend, save TensorFlow's models again under this backend, and check that
``backends.compiled`` reads a model's weights as they are when it is called."""

import sys
from pathlib import Path

import labs  # noqa: F401  (before Keras: the labs' defaults and a quiet TensorFlow)
import keras
import numpy as np
from keras import ops

from labs import backends, saving
from labs.poetry import models, transformer  # noqa: F401  (their layers register for loading)

MODELS = ("course", "every-step-lstm", "transformer")


def predictions(folder, source):
    """The models saved under ``source``, and what each predicts for its shared inputs."""
    inputs = np.load(folder / "inputs.npz")
    loaded = {name: saving.load_model(folder / source / f"{name}.keras", "the test")
              for name in MODELS}
    return loaded, {name: np.asarray(model.predict_on_batch(inputs[name]), np.float32)
                    for name, model in loaded.items()}


def compiled_after_new_weights(model, inputs):
    """What a compiled call of ``model`` gives before and after its weights change, and
    what the model itself gives after (GPT-2's scorer is such a call, after fine-tuning)."""
    function = backends.compiled(lambda batch: model(batch, training=False), model)
    before = ops.convert_to_numpy(function(inputs))
    model.set_weights([weights * 0.5 for weights in model.get_weights()])
    after = ops.convert_to_numpy(function(inputs))
    return {"compiled/before": before, "compiled/after": after,
            "compiled/eager": ops.convert_to_numpy(model(inputs, training=False))}


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
    inputs = np.load(folder / "inputs.npz")["course"]
    compiled = compiled_after_new_weights(loaded["course"], inputs)
    np.savez(folder / f"predictions-{backend}.npz", **results)
    np.savez(folder / f"compiled-{backend}.npz", **compiled)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
