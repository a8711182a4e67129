"""The story of the char-RNN lab: text → held-out split → train → evaluate against the
baselines → report."""

import math

from labs import data
from labs import runs
from labs.char_rnn.config import CORPORA
from labs.char_rnn.model import encode
from labs.char_rnn.report import results_table, write_report
from labs.char_rnn.training import evaluate, train, unigram_loss, warm_state
from labs.cli import LabError
from labs.data import split_holdout


def run(args):
    """Text → held-out split → train → evaluate against the baselines → report."""
    path = data.locate(CORPORA[args.corpus], args.datasets_dir)
    text = data.load_text(path)
    train_text, validation_text = split_holdout(text)
    check_length(path, text, validation_text, args.seq_length)
    run_folder = runs.start(f"char_rnn/{args.corpus}", f"h{args.hidden}", args.quick,
                            args.reports_dir)
    result = train(train_text, args.iterations, args.embed_dim, args.hidden, args.seq_length,
                   args.learning_rate, args.seed, sample_every=max(1, args.iterations // 8))
    metrics = run_metrics(args, text, validation_text, result)
    index = write_report(args.corpus, result, metrics, run_folder)
    runs.write_results(run_folder, *results_table(metrics), samples=shown_samples(result))
    runs.publish(run_folder, f"30-char-rnn-{args.corpus}", index, args.keep)
    if metrics["above_uniform"]:
        print(f"warning: the held-out loss {metrics['validation_loss']:.4f} nats/char is above "
              f"a uniform guess's {metrics['uniform_loss']:.4f}: this model is worse than "
              f"guessing, not a result (train longer, or lower --learning-rate)")
    print(f"final smoothed loss {metrics['final_loss']:.4f}, held-out "
          f"{metrics['validation_loss']:.4f} nats/char; unigram "
          f"{metrics['unigram_loss_validation']:.4f}, uniform {metrics['uniform_loss']:.4f}; "
          f"{metrics['tokens_per_second']:,.0f} chars/s")
    return metrics


def shown_samples(result):
    """The page's samples: the first and the last taken during training (temperature 0.7),
    so that a student sees what training changed."""
    taken = result["samples"]
    chosen = [taken[0], taken[-1]] if len(taken) > 1 else taken
    return [{"label": f"after {entry['iteration']:,} iterations (smoothed loss "
                      f"{entry['loss']:.2f} nats), temperature 0.7",
             "text": entry["start"] + entry["text"]} for entry in chosen]


def check_length(path, text, validation_text, seq_length):
    """Refuse, before training, a text whose held-out part cannot hold one chunk."""
    needed = int((seq_length + 1) / data.VALIDATION_FRACTION) + 1
    if len(validation_text) < seq_length + 1:
        raise LabError(f"{path} has {len(text):,} characters: too short for --seq-length "
                       f"{seq_length}, since the held-out last 10% must hold one chunk of "
                       f"{seq_length + 1} characters; at least {needed:,} characters are "
                       "needed (or a smaller --seq-length)")


def run_metrics(args, text, validation_text, result):
    """Final and held-out loss next to the uniform and unigram baselines."""
    train_text = text[:len(text) - len(validation_text)]
    # Training saw the vocabulary of the first 90% only; map the held-out text onto it.
    validation = "".join(c for c in validation_text if c in result["char_to_index"])
    validation_encoded = encode(validation, result["char_to_index"])
    train_encoded = encode(train_text, result["char_to_index"])
    vocab_size = len(result["characters"])
    warm = warm_state(result["params"], result["state"], train_encoded, args.seq_length)
    validation_loss = evaluate(result["params"], validation_encoded, args.seq_length, warm)
    return {
        "corpus": args.corpus, "characters": len(text), "vocabulary_size": vocab_size,
        "iterations": args.iterations, "seq_length": args.seq_length,
        "embed_dim": args.embed_dim, "hidden_dim": args.hidden,
        "learning_rate": args.learning_rate, "seed": args.seed,
        "final_loss": result["curve"][-1][1],
        "validation_loss": validation_loss,
        "validation_loss_from_zero_state": evaluate(result["params"], validation_encoded,
                                                    args.seq_length),
        "above_uniform": not validation_loss <= math.log(vocab_size),
        "unigram_loss_train": unigram_loss(train_encoded, train_encoded, vocab_size),
        "unigram_loss_validation": unigram_loss(train_encoded, validation_encoded, vocab_size),
        "uniform_loss": math.log(vocab_size),
        "held_out_characters_dropped": len(validation_text) - len(validation),
        "seconds": result["seconds"], "tokens_per_second": result["tokens_per_second"],
        "quick": args.quick,
    }
