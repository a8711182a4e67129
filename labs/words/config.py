"""Every setting of the word-level lab, with its default beside it, and the runs' names.

The command line (``cli``) gives each of these as an option; the lab reads them from the
parsed arguments. The sizes are shared by the Keras model (``model``) and the course's
PyTorch ``RNNModel`` (``torch_model``), so the two learn the same problem.
"""

CORPORA = ("nietzsche", "leopardi")
TOKENIZATIONS = ("words", "subword")
FRAMEWORKS = ("keras", "pytorch")  # pytorch: the course's RNNModel, native (torch_model)
CELLS = ("lstm", "rnn")  # Keras LSTM / SimpleRNN; PyTorch nn.LSTM / nn.RNN
WINDOWS = {"words": 5, "subword": 10}  # tokens of context: a subword is ~4 characters, a word ~5
WINDOW = WINDOWS["words"]
MIN_COUNT = 3
VOCABULARY_SIZE = 4000  # of the learned BPE (256 bytes and 3,744 merges)
EMBEDDING_DIM = 128
UNITS = 256
BATCH_SIZE = 256
EPOCHS = 8
PATIENCE = 2  # epochs without a better validation loss before stopping
LEARNING_RATE = 2e-3
SEED = 42
GENERATED_WORDS = 40
TOP_K = 10
COMPARISON_TEMPERATURE = 0.5  # labs.gpt2.compare samples every model at this temperature
SEED_PHRASES = {"nietzsche": "the philosopher is", "leopardi": "sempre caro mi fu"}
QUICK = {"characters": 120_000, "epochs": 1}


def lab_name(corpus, tokens, framework="keras"):
    """words/<corpus>[-subword][-pytorch]: each model its own runs and index section."""
    return (f"words/{corpus}" + ("-subword" if tokens == "subword" else "")
            + ("-pytorch" if framework == "pytorch" else ""))
