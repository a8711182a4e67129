"""Every setting of one poetry run, in one frozen dataclass, with its default beside it.

``Config`` is built once: from the command line (``Config.from_args``), from a run's saved
``options.json`` when it is resumed (``config.with_saved``), and by ``compare`` as
differences from a base (``replace(base, **configuration)``). Every function of the lab
reads its settings from it; ``models.build(config, vocabulary_size)`` builds the network.
"""

from dataclasses import asdict, dataclass, fields, replace

from labs.cli import LabError
from labs.poetry import data

CELLS = ("simplernn", "lstm", "gru", "transformer")
SCHEDULES = ("constant", "cosine")
OPTIMIZERS = ("rmsprop", "adam")
OBJECTIVES = ("next-char", "every-step")
INPUTS = ("one-hot", "embedding")
EMBEDDING_DIM = 64  # --input embedding of a recurrent cell
# Smoke runs (--quick): the first characters of each text, one epoch, a short compare budget.
# A smoke run (--quick): the first characters, one epoch, short budgets, and short texts
# generated for its report (its numbers are not results).
QUICK = {"characters": 30_000, "epochs": 1, "budget_minutes": 0.2, "generated": 200}


@dataclass(frozen=True)
class Config:
    corpus: str = "leopardi"  # a name of data.CORPORA
    # The text. None: the corpus's course setting (data.CORPORA): Leopardi maxlen 40, step 1,
    # case kept; Nietzsche maxlen 60, step 3, lowercased.
    maxlen: int = None  # characters a next-char window reads (and the held-out measure)
    step: int = None  # stride between training windows
    lowercase: bool = None
    # The network: the course's [LSTM(128)] -> Dense(softmax), one-hot inside the model.
    cell: str = "lstm"  # simplernn, lstm, gru, or a small causal transformer
    layers: int = 1
    units: int = 128
    objective: str = None  # next-char (the course's; recurrent default) or every-step
    seq_length: int = 100  # sequence length of --objective every-step
    inputs: str = None  # one-hot (the course's; recurrent default) or a learned embedding
    embedding_dim: int = None  # of --input embedding: 64; the transformer's is --units wide
    heads: int = 4  # attention heads of the transformer
    dropout: float = 0.0  # after each recurrent layer / attention and feed-forward block
    # Optimisation: RMSprop at the course's learning rate, gradients clipped at norm 1
    # (keeps RMSprop at lr 0.01 from diverging in long runs).
    optimizer: str = "rmsprop"
    learning_rate: float = 0.01
    clipnorm: float = 1.0
    # constant, or cosine: a linear warm-up over the first 5% of training, then a cosine
    # decay to 0 at the end of the time budget (compare, tune), else of --epochs.
    schedule: str = "constant"
    batch_size: int = 256  # per replica; the course uses 128
    epochs: int = None  # at most; early stopping ends most runs (None: the corpus's)
    # The run.
    seed: int = 42
    sample_every: int = 1  # epochs between samples in the report
    quick: bool = False
    verbose: bool = False  # Keras progress bars
    replicas: int = 1  # model copies each batch is split between (--distribute)

    @classmethod
    def from_args(cls, args, replicas=1):
        """The command line's settings (``args`` is read, never changed), resolved."""
        given = {name: getattr(args, name) for name in field_names() if hasattr(args, name)}
        config = cls(**given, replicas=replicas).resolved()
        return replace(config, epochs=min(config.epochs, QUICK["epochs"])) if config.quick \
            else config

    def with_saved(self, options, given=(), run_id="the run"):
        """A resumed run continues as it started: its saved options, except those that
        belong to this command (corpus, verbosity, devices). An option ``given`` on this
        command line that differs from the saved one is an error, not silently dropped."""
        saved = {name: value for name, value in options.items()
                 if name in field_names() and name not in ("corpus", "verbose", "replicas")}
        changed = [f"--{name.replace('_', '-')} {getattr(self, name)} (it has {saved[name]})"
                   for name in sorted(given) if name in saved and getattr(self, name) !=
                   saved[name]]
        if changed:
            raise LabError(f"--resume continues {run_id} with the options it started with; "
                           f"{', '.join(changed)} would change it: drop the option, or train "
                           "a new run without --resume")
        return replace(self, **saved).resolved()

    def resolved(self):
        """Corpus defaults filled in and the transformer's rules applied."""
        corpus = data.CORPORA[self.corpus]
        config = replace(self, **{name: corpus[name] for name in ("maxlen", "step", "lowercase",
                                                                  "epochs")
                                  if getattr(self, name) is None})
        if config.cell == "transformer":
            return config.transformer_settings()
        return replace(config, objective=config.objective or "next-char",
                       inputs=config.inputs or "one-hot",
                       embedding_dim=config.embedding_dim or EMBEDDING_DIM)

    def transformer_settings(self):
        """The transformer learns at every position from a character embedding as wide as
        the model (``units``)."""
        if self.objective == "next-char":
            raise LabError("--cell transformer trains with --objective every-step (its causal "
                           "mask scores every position at once); leave --objective out")
        if self.units % self.heads:
            raise LabError(f"--units {self.units} must be a multiple of --heads {self.heads}")
        if self.inputs == "one-hot" or self.embedding_dim not in (None, self.units):
            raise LabError("--cell transformer reads a learned character embedding as wide as "
                           "--units; leave --input and --embedding-dim out")
        if self.seq_length < self.maxlen:
            raise LabError(f"--seq-length {self.seq_length} is shorter than maxlen {self.maxlen}: "
                           "the transformer has a position for each of --seq-length characters "
                           "and the held-out measure reads windows of maxlen; give --seq-length "
                           f"{self.maxlen} or more, or a smaller --maxlen")
        return replace(self, objective="every-step", inputs="embedding",
                       embedding_dim=self.units)

    @property
    def global_batch_size(self):
        return self.batch_size * self.replicas

    @property
    def characters(self):
        """Characters read from each text: all, or the first ones of a quick run."""
        return QUICK["characters"] if self.quick else None

    def options(self):
        """What a run records in options.json (``with_saved`` reads it back)."""
        return asdict(self)

    def model_metadata(self, vocabulary):
        """What a saved model records beside its weights (``generate`` reads it)."""
        return {"vocabulary": vocabulary, "characters": self.characters, **self.options()}


def field_names():
    return [field.name for field in fields(Config)]
