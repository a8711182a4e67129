"""Every setting of one spam run: a ``Recipe`` (how a model is trained and chosen) inside a
``Settings`` (what the run trains, on which folds), both frozen, each field with its
default and its reason beside it. ``Settings.from_args`` builds them once from the command
line; the training code reads typed fields, never strings that stand for choices.
"""

from dataclasses import dataclass, replace

from labs.cli import LabError


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str  # one sentence for every report header
    epochs: int  # at most
    batch_size: int  # per replica
    # What chooses the model. The course validates on the test part and keeps the last
    # epoch at threshold 0.5; the tuned recipe carves a validation part out of the training
    # part, and early stopping and the threshold are chosen there.
    validate_on_test: bool
    patience: int  # epochs without improvement before early stopping; 0: none
    tune_threshold: bool  # the threshold with the best validation F1, else 0.5
    # What the network reads and passes on.
    mask_padding: bool  # padded inputs: skip the zero vectors (the course reads them)
    pooling: str  # "last" hidden state (the course's) or "max" over time
    token_features: bool  # spaCy token attributes appended to every vector


RECIPES = {
    "course": Recipe(
        "course", "the course's: 20 epochs of batch 512, validation data = the test part, the "
        "last epoch's model, threshold 0.5, padding not masked, the RNN's last hidden state",
        epochs=20, batch_size=512, validate_on_test=True, patience=0, tune_threshold=False,
        mask_padding=False, pooling="last", token_features=False),
    "tuned": Recipe(
        "tuned", "up to 40 epochs of batch 32 (~110 weight updates an epoch), early stopping "
        "(patience 4) on a validation part carved out of the training part (12.5%, grouped), "
        "the best epoch's weights, the threshold with the best validation F1; padding masked; "
        "RNNs pool their hidden states by maximum over time",
        epochs=40, batch_size=32, validate_on_test=False, patience=4, tune_threshold=True,
        mask_padding=True, pooling="max", token_features=True),
}
INPUT_KINDS = ("padded", "ragged")
# Smoke runs (--quick): a stratified subset, two folds, three epochs.
QUICK = {"messages": 1000, "folds": 2, "epochs": 3}


@dataclass(frozen=True)
class Settings:
    recipe: Recipe  # with this command line's epochs, batch size, pooling, token features
    inputs: tuple = ("ragged",)  # padded (the course's) and/or ragged
    maxlen: int = 50  # tokens a padded input keeps, as the course pads
    folds: int = 5  # stratified grouped folds; 1: one 80/20 split
    repeats: int = 1  # differently seeded k-fold splits; the paired test uses all of them
    split: str = "grouped"  # with one fold: grouped, or the course's plain split
    seed: int = 42  # of the folds; fold k trains with seed + k
    quick: bool = False
    verbose: int = 0  # Keras's verbosity
    tensorboard: bool = False
    replicas: int = 1  # model copies each batch is split between (--distribute)

    @classmethod
    def from_args(cls, args, replicas=1):
        """The recipe with the options that override it, and the quick caps."""
        base = RECIPES[args.recipe]
        recipe = replace(base, epochs=args.epochs or base.epochs,
                         batch_size=args.batch_size or base.batch_size,
                         pooling=args.pooling or base.pooling,
                         token_features=(base.token_features if args.token_features is None
                                         else args.token_features))
        folds = args.folds
        if args.quick:
            recipe = replace(recipe, epochs=min(recipe.epochs, QUICK["epochs"]))
            folds = min(folds, QUICK["folds"])
        if args.repeats > 1 and folds == 1:
            raise LabError("--repeats needs --folds 2 or more: it repeats the k-fold split with "
                           "other seeds")
        settings = cls(recipe, inputs_for(args.inputs, recipe), args.maxlen, folds,
                       args.repeats, args.split, args.seed, args.quick,
                       2 if args.verbose else 0, args.tensorboard, replicas)
        if replicas > 1 and "ragged" in settings.inputs:
            raise LabError("--distribute needs --inputs padded: MirroredStrategy cannot split "
                           "ragged batches between replicas")
        return settings

    @property
    def batch_size(self):
        """The global batch: ``--batch-size`` per replica."""
        return self.recipe.batch_size * self.replicas

    @property
    def messages(self):
        """Messages read: all, or a quick run's subset."""
        return QUICK["messages"] if self.quick else None


def inputs_for(inputs, recipe):
    """``--inputs``: the course pads (as it does); the tuned recipe reads ragged batches."""
    if inputs is None:
        return ("padded",) if recipe.name == "course" else ("ragged",)
    return INPUT_KINDS if inputs == "both" else (inputs,)
