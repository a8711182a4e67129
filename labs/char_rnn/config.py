"""Every setting of the NumPy char-RNN, with its default beside it: the sizes and the
optimisation of Karpathy's min-char-rnn, which this lab follows."""

CORPORA = {"leopardi": "leopardi.txt", "nietzsche": "nietzsche.txt"}
EMBED_DIM = 32
HIDDEN_DIM = 128
SEQ_LENGTH = 25
LEARNING_RATE = 0.1
CLIP = 5.0
ITERATIONS = 300_000
SAMPLE_EVERY = 5_000
SAMPLE_LENGTH = 200
SEED = 42
WARM_UP = 1_000  # characters of the training text read before the held-out text
QUICK = {"iterations": 1_000}
PARAMETER_NAMES = ("embedding", "W_xh", "W_hh", "b_h", "W_hy", "b_y")
