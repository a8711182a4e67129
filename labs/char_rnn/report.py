"""What a run writes: loss.png (the training loss against both baselines), metrics.json and
report.md with the samples taken during training; the run's section of the index."""

from labs import measures
from labs.char_rnn.config import CLIP
from labs.reports import atomic_write_json, atomic_write_text, device_line, pyplot, save_figure


def plot_loss(corpus, result, metrics, path):
    """The smoothed training loss against the uniform and unigram baselines."""
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(8, 4.5))
    iterations, losses = zip(*result["curve"])
    axis.plot(iterations, losses, label="training loss (smoothed)")
    axis.axhline(metrics["uniform_loss"], color="grey", linestyle=":",
                 label=f"uniform guess, ln {metrics['vocabulary_size']} = "
                       f"{metrics['uniform_loss']:.2f}")
    axis.axhline(metrics["unigram_loss_train"], color="tab:red", linestyle="--",
                 label=f"unigram model = {metrics['unigram_loss_train']:.2f}")
    axis.axhline(metrics["validation_loss"], color="tab:green", linestyle="-.",
                 label=f"held-out loss at the end = {metrics['validation_loss']:.2f}")
    axis.set_xlabel(f"iteration (one {metrics['seq_length']}-character chunk each)")
    axis.set_ylabel("cross-entropy, nats per character")
    axis.set_title(f"NumPy char-RNN on {corpus}")
    axis.grid(alpha=0.3)
    axis.legend()
    save_figure(figure, path)


def summary_lines(metrics):
    return [f"- {metrics['iterations']:,} iterations of {metrics['seq_length']} characters, "
            f"embedding {metrics['embed_dim']}, hidden {metrics['hidden_dim']}, Adagrad lr "
            f"{metrics['learning_rate']}, clipping ±{CLIP}, seed {metrics['seed']}",
            f"- final smoothed training loss {metrics['final_loss']:.4f} nats/char; held-out "
            f"(last 10%, read on from the state training ended in) "
            f"{metrics['validation_loss']:.4f}; unigram "
            f"{metrics['unigram_loss_validation']:.4f} on the held-out text; uniform "
            f"{metrics['uniform_loss']:.4f}",
            *(["- **not a result**: the held-out loss is above the uniform guess's, so this "
               "model is worse than guessing (train longer, or lower the learning rate)"]
              if metrics.get("above_uniform") else []),
            f"- {metrics['tokens_per_second']:,.0f} characters/s of training "
            f"({metrics['seconds']:.0f} s)\n"]


def results_table(metrics):
    """The page's row of this corpus (labs/char_rnn/README.md, through
    ``runs.write_results``), the losses in nats and the headline in bits per character, the
    unit every language-model headline of the course uses."""
    columns = ["corpus", "iterations", "final training loss (nats)", "held-out loss (nats)",
               "held-out bits/char", "unigram (nats)", "unigram bits/char", "uniform (nats)",
               "characters/s of training"]
    not_a_result = " (above uniform: not a result)" if metrics.get("above_uniform") else ""
    held_out, unigram = metrics["validation_loss"], metrics["unigram_loss_validation"]
    row = [metrics["corpus"], f"{metrics['iterations']:,}", f"{metrics['final_loss']:.3f}",
           f"{held_out:.3f}{not_a_result}", f"{measures.bits(held_out):.2f}",
           f"{unigram:.3f}", f"{measures.bits(unigram):.2f}",
           f"{metrics['uniform_loss']:.3f}", f"{metrics['tokens_per_second']:,.0f}"]
    return columns, [row], (f"{measures.bits(held_out):.2f} bits/char held out against the "
                            f"unigram model's {measures.bits(unigram):.2f}")


def write_report(corpus, result, metrics, run):
    """loss.png, metrics.json and report.md (with samples taken during training) in the
    run's folder; returns the run's section of reports/index.md."""
    reports_dir = run.reports
    plot_loss(corpus, result, metrics, reports_dir / "loss.png")
    atomic_write_json(reports_dir / "metrics.json", metrics)
    lines = [f"# NumPy char-RNN: {corpus}\n", f"- {run.describe()}", f"- {device_line()}",
             *summary_lines(metrics),
             "![loss](loss.png)\n",
             "## Samples during training\n"]
    for entry in result["samples"]:
        lines += [f"### Iteration {entry['iteration']:,} (loss {entry['loss']:.3f}, "
                  f"temperature 0.7)\n", "```text", entry["start"] + entry["text"], "```\n"]
    atomic_write_text(reports_dir / "report.md", "\n".join(lines))
    return "\n".join([f"## Character RNN from scratch (NumPy): {corpus}\n",
                      f"- {run.describe()}", *summary_lines(metrics),
                      f"[report]({run.link}/report.md)\n", f"![loss]({run.link}/loss.png)\n"])
