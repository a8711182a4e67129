"""Report helpers shared by every lab: atomic writes, plots, Markdown tables, the index.

Every file a lab leaves is written to a temporary file beside its target and renamed, so
an interrupted run never leaves half a report or half a model that a later run would trust.
"""

import json
import os
import platform
import tempfile
from string import Template
from contextlib import contextmanager
from pathlib import Path

REPORTS_DIR = Path("reports")


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temporary name keeps the suffix: Keras and Matplotlib choose formats by it.
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}.tmp-", suffix=path.suffix
    )
    os.close(descriptor)
    try:
        yield Path(temporary)
        os.chmod(temporary, 0o666 & ~current_umask())  # mkstemp makes it 0600
        os.replace(temporary, path)
    except OSError as error:  # name the file being written, not its temporary twin
        raise OSError(error.errno, error.strerror, str(path)) from error
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def cpu_name():
    """The processor's model name (Linux: /proc/cpuinfo), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_line(keras_module=None):
    """What a run ran on, for every report header: the GPUs TensorFlow sees or the CPU and
    its threads, and the versions (Keras and its backend only for the labs that use them)."""
    parts = []
    if keras_module is not None and keras_module.backend.backend() != "tensorflow":
        from labs import backends

        gpu = backends.gpu()
        parts.append(f"GPU {gpu}" if gpu else f"CPU {cpu_name()} ({os.cpu_count()} threads)")
        parts.append(f"Keras {keras_module.__version__} on {backends.describe()}")
    elif keras_module is not None:
        import tensorflow as tf

        gpus = [tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
                for gpu in tf.config.list_physical_devices("GPU")]
        parts.append(f"GPU {', '.join(gpus)}" if gpus else
                     f"CPU {cpu_name()} ({os.cpu_count()} threads)")
        strategy = tf.distribute.get_strategy()
        if strategy.num_replicas_in_sync > 1:
            devices = ", ".join(name.split("device:")[-1]
                                for name in strategy.extended.worker_devices)
            parts.append(f"MirroredStrategy over {strategy.num_replicas_in_sync} replicas "
                         f"({devices}); batch sizes are global, --batch-size per replica × "
                         f"{strategy.num_replicas_in_sync}")
        parts.append(f"TensorFlow {tf.__version__}, Keras {keras_module.__version__}")
    else:
        parts.append(f"CPU {cpu_name()} ({os.cpu_count()} threads), NumPy {numpy_version()}")
    return f"Device: {'; '.join(parts)}; Python {platform.python_version()}"


def numpy_version():
    import numpy

    return numpy.__version__


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path, text):
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def atomic_write_json(path, data):
    atomic_write_text(path, json.dumps(data, indent=2, default=_json_default) + "\n")


def _json_default(value):
    if hasattr(value, "item"):  # NumPy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def save_figure(figure, path):
    """Save a Matplotlib figure atomically and close it (open figures leak memory)."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=110, bbox_inches="tight", format=Path(path).suffix[1:])
    plt.close(figure)


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_history(history, path, panels, title):
    """Plot training curves, one panel per metric, train against validation.

    ``history`` maps Keras metric names to per-epoch lists (``History.history``);
    ``panels`` is a list of ``(metric, label)``: each panel draws ``metric`` and, when
    present, ``val_<metric>`` and ``held_out_<metric>``. This is the course's ``plot``
    helper, generalised.
    """
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    figure, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for axis, (metric, label) in zip(axes[0], panels):
        values = history.get(metric, [])
        epochs = range(1, len(values) + 1)
        axis.plot(epochs, values, "o-", markersize=3, label=f"training {label}")
        for prefix, marker, name in (("val_", "s-", "validation"), ("held_out_", "^--",
                                                                     "held-out")):
            values = history.get(f"{prefix}{metric}")
            if values:
                axis.plot(range(1, len(values) + 1), values, marker, markersize=3,
                          label=f"{name} {label}")
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_ylabel(label)
        axis.set_title(label)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title)
    figure.tight_layout()
    save_figure(figure, path)


def plot_confusion_matrix(matrix, labels, path, title):
    """A seaborn heatmap of a confusion matrix, rows true labels, columns predictions."""
    plt = pyplot()
    import seaborn

    figure, axis = plt.subplots(figsize=(4.8, 4))
    seaborn.heatmap(matrix, annot=True, fmt="d", cmap="Blues", cbar=False,
                    xticklabels=labels, yticklabels=labels, ax=axis)
    axis.set_xlabel("predicted label")
    axis.set_ylabel("true label")
    axis.set_title(title)
    figure.tight_layout()
    save_figure(figure, path)


def table_cells(frame, float_format="{:.3f}", formats=None):
    """A pandas DataFrame as (columns, rows of text), each float with ``float_format``, or
    with ``formats[column]`` where one is given (seconds: ``"{:.0f}"``)."""
    formats = formats or {}

    def cell(value, column):
        if isinstance(value, float):
            return "" if value != value else formats.get(column, float_format).format(value)
        return str(value).replace("|", "\\|").replace("\n", " ")

    columns = [str(column) for column in frame.columns]
    return columns, [[cell(value, column) for value, column in zip(row, columns)]
                     for row in frame.itertuples(index=False)]


def markdown_table(frame, float_format="{:.3f}", formats=None):
    """Render a pandas DataFrame as a GitHub Markdown table (no extra dependency)."""
    columns, rows = table_cells(frame, float_format, formats)
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n"


# Each lab contributes a section to reports/index.md (and index.html); a lab writes its own
# section file and the index is rebuilt from whatever sections exist, so running one lab
# never erases another lab's links.
def write_index_section(name, markdown, reports_dir=REPORTS_DIR):
    reports_dir = Path(reports_dir)
    atomic_write_text(reports_dir / "sections" / f"{name}.md", markdown.rstrip() + "\n")
    rebuild_index(reports_dir)


def rebuild_index(reports_dir=REPORTS_DIR):
    reports_dir = Path(reports_dir)
    sections = sorted((reports_dir / "sections").glob("*.md"))
    parts = ["# rnn-labs reports\n",
             "Generated by the labs; each section is rewritten when its lab runs.\n"]
    parts += [section.read_text(encoding="utf-8") for section in sections]
    if not sections:
        parts.append("No lab has run yet: try `make spam` or `make poetry`.\n")
    markdown = "\n".join(parts)
    atomic_write_text(reports_dir / "index.md", markdown)
    atomic_write_text(reports_dir / "index.html", index_html(markdown))


def index_html(markdown):
    """index.md as one web page (labs/index.html): sortable tables, a table of contents, and
    images by relative path, so it opens from the file system with no server."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    template = Template((Path(__file__).parent / "index.html").read_text(encoding="utf-8"))
    return template.safe_substitute(body=body)
