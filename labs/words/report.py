"""What a run writes: report.md (settings, perplexity against the unigram model, bits per
character, samples by method), history.png and metrics.json; a PyTorch run's report puts it
beside the newest Keras run of the same settings."""

import keras

from labs import measures, runs
from labs.reports import atomic_write_json, atomic_write_text, device_line, plot_history
from labs.words.config import COMPARISON_TEMPERATURE, EMBEDDING_DIM, PATIENCE, UNITS, lab_name


def summary_lines(metrics):
    unknown = (f"; {metrics['held_out_unknown_rate']:.1%} of held-out tokens are `<unk>`, each "
               "charged the cost of spelling its word" if metrics["tokens_kind"] == "words"
               else "")
    return [f"- {metrics['tokens']:,} tokens: {metrics['tokenization']}{unknown}",
            f"- {architecture(metrics)}, windows of "
            f"{metrics['window']} tokens; {metrics['epochs']} epochs in "
            f"{metrics['training_seconds']:.0f} s (early stopping on the validation part, the "
            f"next 5%, patience {PATIENCE}; the best epoch is scored and samples)"
            + (" — QUICK MODE" if metrics["quick"] else ""),
            f"- held-out (last 10%, scored once): perplexity "
            f"{metrics['held_out_perplexity']:.1f} per token against the unigram model's "
            f"{metrics['unigram_held_out_perplexity']:.1f}; "
            f"**{metrics['held_out_bits_per_char']:.3f} bits per character**\n"]


def architecture(metrics):
    """The model in one phrase, Keras or the course's PyTorch ``RNNModel``."""
    cell = metrics.get("cell", "lstm")
    if metrics.get("framework") == "pytorch":
        return (f"PyTorch `RNNModel`: nn.Embedding({EMBEDDING_DIM}) → "
                f"nn.{'LSTM' if cell == 'lstm' else 'RNN'}({UNITS}) → nn.Linear, Adam and "
                "CrossEntropyLoss (each weight's gradient clipped at norm 1, as Keras clips)")
    return (f"Embedding({EMBEDDING_DIM}) → {'LSTM' if cell == 'lstm' else 'SimpleRNN'}({UNITS}) "
            "→ softmax, Adam")


def beside_keras(metrics, reports_dir):
    """The PyTorch run's table beside the newest complete Keras run of the same text, tokens,
    cell and mode (full or quick), or a line saying how to make one."""
    keras_run = runs.latest_metrics(
        lab_name(metrics["corpus"], metrics["tokens_kind"]), reports_dir,
        lambda other: (other.get("cell", "lstm") == metrics["cell"]
                       and other["quick"] == metrics["quick"] and other["epochs"] > 0))
    lines = ["## Beside the Keras model\n"]
    if keras_run is None:
        return lines + ["No complete Keras run of the same settings yet: `python -m labs.words "
                        f"--corpus {metrics['corpus']} --tokens {metrics['tokens_kind']}"
                        f"{' --quick' if metrics['quick'] else ''}` makes one.\n"]
    rows = [("Keras", keras_run), ("PyTorch (native)", metrics)]
    lines += ["| model | parameters | epochs (best) | training s | held-out perplexity | "
              "bits/char |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {name} (run {row.get('run', 'this one')}) | {row['parameters']:,} | "
              f"{row['epochs']} ({row['best_epoch']}) | {row['training_seconds']:.0f} | "
              f"{row['held_out_perplexity']:.1f} | {row['held_out_bits_per_char']:.3f} |"
              for name, row in rows]
    ratio = metrics["held_out_perplexity"] / keras_run["held_out_perplexity"]
    return lines + ["", f"The PyTorch model's held-out perplexity is {ratio:.3f} × the Keras "
                    "model's (same windows, same validation part, same held-out text).\n"]


def torch_device():
    from labs.words import torch_model

    return torch_model.device()


def results_table(metrics):
    """The page's row of this model (labs/words/README.md, through ``runs.write_results``)."""
    columns = ["corpus", "tokens", "model", "vocabulary", "epochs (best)", "training s",
               "held-out perplexity (unigram)", "bits/char"]
    row = [metrics["corpus"], metrics["tokens_kind"], architecture(metrics).split(",")[0],
           f"{metrics['vocabulary_size']:,}", f"{metrics['epochs']} ({metrics['best_epoch']})",
           f"{metrics['training_seconds']:.0f}",
           f"{metrics['held_out_perplexity']:.1f} ({metrics['unigram_held_out_perplexity']:.1f})",
           f"{metrics['held_out_bits_per_char']:.3f}"]
    return columns, [row], (f"{metrics['tokens_kind']}"
                            f"{', PyTorch' if metrics['framework'] == 'pytorch' else ''}: "
                            f"{metrics['held_out_bits_per_char']:.3f} bits/char held out")


def write_report(run, metrics, history, seed_phrase, unknown, samples):
    """report.md, history.png and metrics.json in the run's folder."""
    directory, corpus = run.reports, metrics["corpus"]
    unigram = metrics["unigram_held_out_perplexity"]
    training = [measures.perplexity(value) for value in history["loss"]]
    plot_history({"perplexity": training, "val_perplexity": metrics["validation_perplexity"],
                  "loss": history["loss"], "val_loss": history["val_loss"]},
                 directory / "history.png",
                 [("loss", "cross-entropy (nats per token)"), ("perplexity", "perplexity")],
                 f"word LSTM on {corpus} ({metrics['tokens_kind']}); validation = the 5% before "
                 f"the held-out text; unigram held-out perplexity {unigram:.0f}")
    atomic_write_json(directory / "metrics.json", metrics)
    unknown_note = (f"Seed words not in the vocabulary, read as `<unk>`: {', '.join(unknown)}."
                    if unknown else "Every seed word is in the vocabulary.")
    if unknown:
        print(f"note: {unknown_note}")
    table = ["| epoch | training perplexity | validation perplexity |", "|---:|---:|---:|"]
    table += [f"| {epoch} | {train:.1f} | {held:.1f} |" for epoch, (train, held)
              in enumerate(zip(training, metrics["validation_perplexity"]), 1)]
    never = ("`<unk>` (every word seen fewer than "
             f"{metrics['min_count']} times) is never drawn: its probability is set to 0 and "
             "the others renormalised." if metrics["tokens_kind"] == "words" else
             "Nothing is unknown: every text is bytes, and the BPE's tokens cover them.")
    pytorch = metrics["framework"] == "pytorch"
    lines = [f"# Word-level {metrics['cell'].upper()}"
             f"{' (the course PyTorch RNNModel)' if pytorch else ''}: {corpus}, "
             f"{metrics['tokens_kind']}\n", f"- {run.describe()}",
             f"- {device_line(None if pytorch else keras)}"
             + (f"; the model: {torch_device()}" if pytorch else ""), *summary_lines(metrics),
             "![history](history.png)\n", *table, "",
             f"## Samples from “{seed_phrase}”\n", unknown_note + "\n",
             "Greedy decoding always takes the most probable token, so it falls into loops; "
             f"sampling trades that for variety. {never} Line breaks show as /.\n",
             "| method | text |", "|---|---|",
             *[f"| {title} | {text} |" for title, text in samples], "",
             f"## From the comparison prompt (temperature {COMPARISON_TEMPERATURE})\n",
             "```text", metrics["comparison_sample"], "```", ""]
    if pytorch:
        lines += beside_keras(metrics, run.reports_root)
    atomic_write_text(directory / "report.md", "\n".join(lines) + "\n")
