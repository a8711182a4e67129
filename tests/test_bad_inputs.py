"""Everything a student can get wrong, damage or interrupt: each case is a real command (in
this process, or a subprocess where a signal is involved) on real or deliberately damaged
files. Each asserts the exit status, a one-line message (never a traceback) and that the
complete runs made before it are byte for byte unchanged."""

import ast
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labs import data, embeddings
from labs.char_rnn import cli as char_rnn
from labs.words import cli as words
from labs.poetry import cli as poetry
from labs.spam import cli as spam
from labs.spam.lab import saved_models
from conftest import start_lab, subprocess_env, wait_for

pytestmark = pytest.mark.slow
REPOSITORY = Path(__file__).resolve().parent.parent
SMALL_POETRY = ["--maxlen", "12", "--step", "20", "--units", "16", "--epochs", "1"]


# ---------------------------------------------------------------- helpers
def published_files(root):
    """sha256 of every file of every published run (reports and models) and the pointers."""
    hashes = {}
    pointers = [*(root / "models").rglob("latest*.json"), *(root / "reports").rglob("latest*.json")]
    for pointer in sorted(pointers):
        hashes[str(pointer)] = hashlib.sha256(pointer.read_bytes()).hexdigest()
        run = json.loads(pointer.read_text())
        for folder in (Path(run["reports"]), Path(run["models"])):
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    hashes[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def one_line_error(raised, prog, *fragments):
    message = str(raised.value.code)
    assert message.startswith(f"{prog}: error: "), message
    assert "\n" not in message and "Traceback" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


def folders(root):
    return ["--reports-dir", str(root / "reports"), "--models-dir", str(root / "models")]


def spam_args(root, *extra, cache=None):
    return ["train", "--variants", "simplernn", "--inputs", "padded", "--folds", "2",
            "--baselines", "--epochs", "1", *folders(root),
            "--cache-dir", str(cache or root / "cache"), *extra]


@pytest.fixture(scope="module")
def world(tmp_path_factory, dataset_path):
    """A folder with complete, published runs of both labs and a full comparison (small but
    not quick), which every case below must leave untouched."""
    root = tmp_path_factory.mktemp("world")
    for name in ("sms_spam.tsv", "leopardi.txt", "nietzsche.txt"):
        dataset_path(name)
    # The runs learn the first WORLD_MESSAGES messages and WORLD_TEXT characters of the Canti,
    # kept as datasets of their own: full runs (never --quick) of every kind, for seconds each.
    (root / "datasets").mkdir()
    messages = dataset_path("sms_spam.tsv").read_text(encoding="utf-8").splitlines(True)
    (root / "datasets" / "sms_spam.tsv").write_text("".join(messages[:WORLD_MESSAGES]),
                                                    encoding="utf-8")
    spam.main(spam_args(root, *world_datasets(root)))
    (root / "datasets" / "leopardi.txt").write_text(
        dataset_path("leopardi.txt").read_text(encoding="utf-8")[:WORLD_TEXT], encoding="utf-8")
    poetry.main(["train", "--corpus", "leopardi", *SMALL_POETRY, *folders(root),
                 *world_datasets(root)])
    # The course's model on Leopardi (one epoch, the course's windows: a reference must share
    # the comparison's corpus settings) stands in for the course configuration of a full
    # comparison of every other one.
    poetry.main(["train", "--corpus", "leopardi", "--epochs", "1", "--sample-every", "9",
                 *folders(root), *world_datasets(root)])
    poetry.main(["compare", "--corpus", "leopardi", "--reference", str(course_metrics(root)),
                 "--budget-minutes", "0.02", "--reports-dir", str(root / "reports"),
                 *world_datasets(root)])
    assert (root / "reports" / "poetry" / "leopardi" / "compare" / "latest.json").is_file()
    hashes = published_files(root)
    assert len(hashes) > 10
    return root, hashes


WORLD_MESSAGES = 1_500  # 215 of them spam
WORLD_TEXT = 10_000


def world_datasets(root):
    """The option that points a command at the world's datasets (its messages, its Canti)."""
    return ["--datasets-dir", str(root / "datasets")]


def course_metrics(root):
    pointer = json.loads((root / "models" / "poetry" / "leopardi" / "latest.json").read_text())
    return Path(pointer["reports"]) / "metrics.json"


@pytest.fixture
def unchanged(world):
    root, hashes = world
    yield root
    now = published_files(root)
    changed = [path for path, digest in hashes.items() if now.get(path) != digest]
    assert not changed, f"a complete run changed: {changed}"


# ---------------------------------------------------------------- runs are kept
def test_a_quick_run_after_a_full_run_changes_nothing_of_it(unchanged, capsys):
    quick = spam.main(spam_args(unchanged, "--quick", "--folds", "1")).attrs["run"]
    probabilities = spam.main(["predict", "--models-dir", str(unchanged / "models"), "--model",
                               "simplernn_padded", "free prize, call now"])
    err = capsys.readouterr().err
    assert len(probabilities) == 1
    full_run = json.loads((unchanged / "models" / "spam" / "latest.json").read_text())["run"]
    assert f"using run {full_run}" in err and "QUICK" not in err.split("using run")[1]
    assert "QUICK MODE" not in (unchanged / "reports" / "index.md").read_text()
    # What the spam notebook relies on to show the run it trained, not the full one.
    assert quick.endswith("-quick") and quick != full_run
    spam.main(["predict", "--models-dir", str(unchanged / "models"), "--run", quick,
               "--model", "simplernn_padded", "free prize, call now"])
    assert f"using run {quick}" in capsys.readouterr().err


def test_a_full_spam_run_records_each_saved_models_predict_answer(unchanged, capsys):
    """The spam page's sample (results.json's "samples", shown by make docs) is what
    ``predict`` answers with each saved model of the run, for a held-out spam and ham."""
    pointer = json.loads((unchanged / "models" / "spam" / "latest.json").read_text())
    (sample,) = json.loads((Path(pointer["reports"]) / "results.json").read_text())["samples"]
    examples = json.loads((unchanged / "models" / "spam" / "runs" / pointer["run"] /
                           "examples.json").read_text())
    texts = [next(example["text"] for example in examples if example["label"] == label)
             for label in ("spam", "ham")]
    lines = sample["text"].splitlines()
    assert lines[0].startswith("message 1 (spam): ") and lines[1].startswith("message 2 (ham)")
    answers = {line.split()[0]: line.split()[1:] for line in lines[4:]}
    assert set(answers) == set(saved_models(unchanged / "models" / "spam" / "runs" /
                                            pointer["run"]))
    for name, answer in answers.items():
        spam.main(["predict", "--models-dir", str(unchanged / "models"), "--run",
                   pointer["run"], "--model", name, *texts])
        printed = [line.split("\t")[:2] for line in capsys.readouterr().out.splitlines()]
        assert [word for pair in printed for word in pair] == answer, name


def test_a_quick_run_alone_is_used_with_a_warning(tmp_path, capsys):
    spam.main(spam_args(tmp_path, "--quick", "--folds", "1"))
    spam.main(["predict", "--models-dir", str(tmp_path / "models"), "--model",
               "simplernn_padded", "hello"])
    assert "a QUICK smoke run: train a full one for real results" in capsys.readouterr().err


def test_runs_beyond_keep_are_pruned_but_never_the_published_one(unchanged, tmp_path):
    for _ in range(3):
        poetry.main(["train", "--corpus", "leopardi", "--quick", "--epochs", "1", "--units", "8",
                     "--maxlen", "12", "--step", "20", "--keep", "1", *folders(unchanged)])
    runs = sorted((unchanged / "reports" / "poetry" / "leopardi" / "runs").iterdir())
    assert len(runs) == 2  # the published full run and the newest quick one


# ---------------------------------------------------------------- caches heal
@pytest.mark.parametrize("damage", [b"", b"PK\x03\x04 truncated", "truncate"])
def test_a_damaged_vector_cache_is_reported_and_rebuilt(unchanged, damage, capsys):
    import spacy.util

    cache = unchanged / "cache"
    # The world's cache folder, with an entry of its own for the first 300 messages: the
    # rebuild is the same code as for the whole collection, at a twentieth of the cost.
    texts = list(data.load_sms(dataset_path_of("sms_spam.tsv"))["text"])[:300]
    name = embeddings.choose_pipeline()
    key = embeddings.cache_key(name, spacy.util.get_package_version(name), texts)
    entry = cache / f"vectors-{key}.npz"
    if not entry.is_file():
        embeddings.cached_token_vectors(texts, cache_dir=cache, progress=False)
        capsys.readouterr()
    good = entry.read_bytes()
    entry.write_bytes(good[:len(good) // 2] if damage == "truncate" else damage)
    vectors = embeddings.cached_token_vectors(texts, cache_dir=cache, progress=False)
    out = capsys.readouterr().out
    assert f"token vectors: cache {entry} is damaged" in out and "rebuilding it" in out
    assert len(vectors.lengths) == len(texts)
    assert entry.read_bytes() == good


def dataset_path_of(name):
    return data.locate(name, REPOSITORY / "datasets", log=lambda message: None)


# ---------------------------------------------------------------- exit codes
def test_models_dir_that_is_a_file_fails_before_training(unchanged, tmp_path):
    blocker = tmp_path / "models"
    blocker.write_text("not a folder")
    with pytest.raises(SystemExit) as raised:
        spam.main(["train", "--variants", "simplernn", "--epochs", "1", "--quick",
                   "--reports-dir", str(tmp_path / "reports"), "--models-dir", str(blocker),
                   "--cache-dir", str(unchanged / "cache")])
    one_line_error(raised, "labs.spam", "cannot create folder", "a file with that name")


def test_interrupting_training_exits_130_in_one_line(unchanged):
    process = start_lab("labs.poetry", ["train", "--corpus", "leopardi", "--quick",
                                        "--epochs", "3", "--units", "16", *folders(unchanged)])
    wait_for(process, "epoch 1:")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "Traceback" not in err
    # "after epoch 1" only once epoch 1 is backed up (the line "epoch 1:" comes before that).
    resumable = ("labs.poetry: interrupted after epoch 1 of leopardi; continue it from there "
                 "with `python -m labs.poetry train --corpus leopardi --resume`")
    assert err.strip().splitlines()[-1] in (
        resumable, "labs.poetry: interrupted; the last complete run is untouched")
    backups = list((unchanged / "models" / "poetry" / "leopardi").rglob(
        "backup/training_metadata.json"))
    if err.strip().endswith("--resume`"):
        assert [json.loads(path.read_text())["epoch"] for path in backups] == [1]
    for backup in backups:  # the interrupted run is not part of the world the others share
        shutil.rmtree(backup.parent.parent)
        shutil.rmtree(unchanged / "reports" / "poetry" / "leopardi" / "runs" /
                      backup.parent.parent.name)


def test_interrupting_generation_keeps_the_text_so_far(unchanged):
    process = start_lab("labs.poetry", ["generate", "--corpus", "leopardi", "--length",
                                        "200000", "--models-dir", str(unchanged / "models")])
    text = wait_for(process, "\n") + process.stdout.read(20)  # the seed, then streamed text
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in err
    assert err.strip().splitlines()[-1] == "labs.poetry: interrupted; the text so far is above"
    assert len(text + out) > 20


def test_interrupting_interactive_streaming(unchanged):
    process = start_lab("labs.poetry", ["generate", "--corpus", "leopardi", "--interactive",
                                        "--length", "200000", "--models-dir",
                                        str(unchanged / "models")], stdin=subprocess.PIPE)
    process.stdin.write("Sempre caro\n")
    process.stdin.flush()
    wait_for(process, "Sempre caro")
    process.stdout.read(20)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in err
    assert err.strip().splitlines()[-1] == "labs.poetry: interrupted; the text so far is above"


# ---------------------------------------------------------------- damaged data
def sms_folder(tmp_path, content):
    folder = tmp_path / "datasets"
    folder.mkdir()
    (folder / "sms_spam.tsv").write_bytes(content)
    return folder


@pytest.mark.parametrize("content, quick, fragments", [
    ("ham\tok\nham\tcaffè latte\n".encode("latin-1"), False,
     ["sms_spam.tsv:2: not UTF-8 text (byte 9 of the line)"]),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), False, ["sms_spam.tsv:1: not UTF-8 text"]),
    (b"ham\thello\n" * 3 + b"spam\twin\n" * 3, False,
     ["has 1 distinct ham and 1 distinct spam", "needs at least 10 of each"]),
    (b"".join(f"ham\tmessage {i}\n".encode() for i in range(40))
     + b"".join(f"spam\tprize {i}\n".encode() for i in range(10)), True,
     ["--quick takes a subset of 1,000 messages", "has 50"]),
])
def test_bad_sms_files_are_one_line_errors(unchanged, tmp_path, content, quick, fragments):
    folder = sms_folder(tmp_path, content)
    with pytest.raises(SystemExit) as raised:
        spam.main(spam_args(unchanged, *(["--quick"] if quick else []),
                            "--datasets-dir", str(folder)))
    one_line_error(raised, "labs.spam", *fragments)


def test_permission_denied_on_a_data_file(unchanged, tmp_path, monkeypatch):
    folder = sms_folder(tmp_path, b"ham\thello\n")
    real = Path.read_bytes

    def denied(path):
        if path.name == "sms_spam.tsv":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", denied)  # root ignores chmod; the error is real
    with pytest.raises(SystemExit) as raised:
        spam.main(spam_args(unchanged, "--datasets-dir", str(folder)))
    one_line_error(raised, "labs.spam", "Permission denied", "sms_spam.tsv",
                   "check the path and its permissions")


@pytest.mark.parametrize("where", ["search path", "datasets"])
def test_permission_denied_on_a_folder(unchanged, tmp_path, monkeypatch, where):
    locked = tmp_path / ("shared" if where == "search path" else "datasets")
    locked.mkdir()
    monkeypatch.setenv(data.SEARCH_PATH_VARIABLE, str(tmp_path / "shared"))
    real = Path.is_file

    def denied(path):
        if path.parent == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(Path, "is_file", denied)
    with pytest.raises(SystemExit) as raised:
        words.main(["--quick", "--datasets-dir", str(tmp_path / "datasets"),
                    "--reports-dir", str(unchanged / "reports")])
    one_line_error(raised, "labs.words", "Permission denied", str(locked))


def test_datasets_that_is_a_file(unchanged, tmp_path):
    (tmp_path / "datasets").write_text("oops")
    with pytest.raises(SystemExit) as raised:
        poetry.main(["train", "--quick", "--datasets-dir", str(tmp_path / "datasets"),
                     *folders(unchanged)])
    one_line_error(raised, "labs.poetry", "is a file, not a folder")


def test_a_dataset_that_is_not_the_known_edition_names_both_hashes(tmp_path, capsys):
    """What spam train --datasets-dir says of a file that is not the known edition."""
    (tmp_path / "sms_spam.tsv").write_text("ham\thello\n", encoding="utf-8")
    data.locate("sms_spam.tsv", tmp_path, download=False)
    digest = hashlib.sha256(b"ham\thello\n").hexdigest()[:12]
    known = data.DATASETS["sms_spam.tsv"].sha256[:12]
    assert (f"warning: {tmp_path / 'sms_spam.tsv'} differs from the known edition of "
            f"sms_spam.tsv (its sha256 {digest}…, the known edition's {known}…)") in \
        capsys.readouterr().out


def test_a_bad_file_on_the_search_path_is_not_copied(tmp_path, monkeypatch, capsys):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "nietzsche.txt").write_text("a different edition\n", encoding="utf-8")
    monkeypatch.setenv(data.SEARCH_PATH_VARIABLE, str(shared))
    path = data.locate("nietzsche.txt", tmp_path / "datasets", download=False)
    assert path == shared / "nietzsche.txt" and not (tmp_path / "datasets").exists()
    assert f"warning: {shared / 'nietzsche.txt'} differs from the known edition" in \
        capsys.readouterr().out
    shutil.copyfile(dataset_path_of("nietzsche.txt"), shared / "nietzsche.txt")  # fixed
    assert data.locate("nietzsche.txt", tmp_path / "datasets", download=False) == \
        tmp_path / "datasets" / "nietzsche.txt"


# ---------------------------------------------------------------- bad options
@pytest.mark.parametrize("main, argv, fragment", [
    (spam.main, ["train", "--seed", "-1"], "argument --seed: must be between 0 and 4294967295"),
    (poetry.main, ["train", "--learning-rate", "inf"],
     "argument --learning-rate: must be a finite number above 0, got inf"),
    (char_rnn.main, ["--learning-rate", "inf"],
     "argument --learning-rate: must be a finite number above 0, got inf"),
])
def test_bad_numbers_are_refused_by_the_parser(main, argv, fragment, capsys):
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert fragment in err.strip().splitlines()[-1] and "Traceback" not in err


def test_a_tiny_temperature_is_greedy(unchanged, capsys):
    argv = ["generate", "--corpus", "leopardi", "--models-dir", str(unchanged / "models"),
            "--seed-text", "Sempre caro", "--length", "40"]
    tiny = poetry.main([*argv, "--temperature", "1e-320"])
    greedy = poetry.main([*argv, "--method", "greedy"])
    assert tiny == greedy and len(tiny[0]) == 40


def test_char_rnn_on_a_short_corpus_fails_before_training(tmp_path):
    folder = tmp_path / "datasets"
    folder.mkdir()
    (folder / "leopardi.txt").write_text("Sempre caro mi fu quest'ermo colle\n" * 3)
    with pytest.raises(SystemExit) as raised:
        char_rnn.main(["--datasets-dir", str(folder), "--reports-dir", str(tmp_path)])
    one_line_error(raised, "labs.char_rnn", f"{folder / 'leopardi.txt'} has 105 characters",
                   "at least 261 characters are needed")
    assert not (tmp_path / "char_rnn").exists()


def test_seq_length_longer_than_the_text(tmp_path, world):
    with pytest.raises(SystemExit) as raised:
        char_rnn.main(["--seq-length", "1000000", "--quick", "--reports-dir",
                             str(tmp_path), "--datasets-dir", str(REPOSITORY / "datasets")])
    one_line_error(raised, "labs.char_rnn", "too short for --seq-length 1000000")


def test_maxlen_longer_than_the_text(unchanged):
    with pytest.raises(SystemExit) as raised:
        poetry.main(["train", "--quick", "--maxlen", "5000", *folders(unchanged)])
    one_line_error(raised, "labs.poetry", "too short for maxlen 5000", "characters are needed")


def test_a_message_over_spacy_max_length(unchanged):
    with pytest.raises(SystemExit) as raised:
        spam.main(["predict", "--model", "simplernn_padded", "--models-dir",
                   str(unchanged / "models"), "x" * 1_000_001])
    one_line_error(raised, "labs.spam", "message 1 has 1,000,001 characters")


# ---------------------------------------------------------------- damaged models
def spam_model(root):
    folder = Path(json.loads((root / "models" / "spam" / "latest.json").read_text())["models"])
    return folder / "simplernn_padded.keras", folder / "simplernn_padded.json"


def poetry_model(root):
    pointer = root / "models" / "poetry" / "leopardi" / "latest.json"
    folder = Path(json.loads(pointer.read_text())["models"])
    return folder / "model.keras", folder / "model.json"


@pytest.fixture
def copy_of_world(world, tmp_path):
    root, _ = world
    shutil.copytree(root / "models", tmp_path / "models")
    for pointer in (tmp_path / "models").rglob("latest*.json"):  # point at the copies
        pointer.write_text(pointer.read_text().replace(str(root), str(tmp_path)))
    return tmp_path


@pytest.mark.parametrize("damage, fragments", [
    ("truncate-keras", ["simplernn_padded.keras: the file is damaged or not a Keras model"]),
    ("invalid-json", ["simplernn_padded.json is not valid JSON"]),
    ("incomplete-json", ["simplernn_padded.json lacks inputs, vector_size, maxlen"]),
    ("says-ragged", ["does not match simplernn_padded.keras",
                     "it says 'ragged' inputs but the model takes padded"]),
])
def test_damaged_spam_models_are_one_line_errors(copy_of_world, damage, fragments):
    model_path, metadata_path = spam_model(copy_of_world)
    metadata = json.loads(metadata_path.read_text())
    if damage == "truncate-keras":
        model_path.write_bytes(model_path.read_bytes()[:500])
    elif damage == "invalid-json":
        metadata_path.write_text("{not json")
    elif damage == "incomplete-json":
        kept = {key: metadata[key] for key in ("variant", "pipeline")}
        metadata_path.write_text(json.dumps(kept))
    else:
        metadata_path.write_text(json.dumps({**metadata, "inputs": "ragged"}))
    with pytest.raises(SystemExit) as raised:
        spam.main(["predict", "--model", "simplernn_padded", "--models-dir",
                   str(copy_of_world / "models"), "hello"])
    one_line_error(raised, "labs.spam", *fragments)


@pytest.mark.parametrize("damage, fragments", [
    ("invalid-json", ["model.json is not valid JSON"]),
    ("incomplete-json", ["model.json lacks vocabulary, maxlen"]),
    ("truncate-keras", ["model.keras: the file is damaged or not a Keras model"]),
    ("vocabulary", ["model.json does not match model.keras (vocabulary 3 vs"]),
])
def test_damaged_poetry_models_are_one_line_errors(copy_of_world, damage, fragments):
    model_path, metadata_path = poetry_model(copy_of_world)
    metadata = json.loads(metadata_path.read_text())
    if damage == "invalid-json":
        metadata_path.write_text("[1, 2")
    elif damage == "incomplete-json":
        metadata_path.write_text(json.dumps({"corpus": "leopardi", "lowercase": False}))
    elif damage == "truncate-keras":
        model_path.write_bytes(b"")
    else:
        metadata_path.write_text(json.dumps({**metadata, "vocabulary": ["a", "b", "c"]}))
    with pytest.raises(SystemExit) as raised:
        poetry.main(["generate", "--models-dir", str(copy_of_world / "models")])
    one_line_error(raised, "labs.poetry", *fragments)


# ---------------------------------------------------------------- silently wrong before
def test_generate_picks_seeds_from_the_models_own_training_text(tmp_path, capsys):
    poetry.main(["train", "--corpus", "nietzsche", "--quick", "--units", "8", *folders(tmp_path)])
    capsys.readouterr()
    for seed in (17, 3, 99):
        poetry.main(["generate", "--corpus", "nietzsche", "--models-dir",
                     str(tmp_path / "models"), "--random-seed", str(seed), "--length", "10"])
    seeds = [line.split("seed: ", 1)[1] for line in capsys.readouterr().err.splitlines()
             if "seed: " in line]
    training_text = dataset_path_of("nietzsche.txt").read_text().lower()[:27_000]
    assert len(seeds) == 3 and all(ast.literal_eval(seed) in training_text for seed in seeds)


def test_reports_dir_elsewhere_keeps_the_index_and_its_links_inside_it(tmp_path, monkeypatch,
                                                                       world):
    monkeypatch.chdir(tmp_path)
    words.main(["--quick", "--corpus", "leopardi", "--datasets-dir",
                str(REPOSITORY / "datasets"), "--reports-dir", "out"])
    assert not (tmp_path / "index.md").exists() and not (tmp_path / "sections").exists()
    index = (tmp_path / "out" / "index.md").read_text()
    links = [line.split("](", 1)[1].rstrip(")\n") for line in index.splitlines() if "](" in line]
    assert links and all((tmp_path / "out" / link).is_file() for link in links)


def test_outputs_follow_the_umask(tmp_path, world):
    """Every file a run writes (reports, plots, the saved model, the pointers: the labs'
    shared writers), on the smallest training there is."""
    previous = os.umask(0o022)
    try:
        poetry.main(["train", "--corpus", "leopardi", "--quick", "--epochs", "1", "--units", "8",
                     "--maxlen", "12", "--step", "20", *folders(tmp_path),
                     "--datasets-dir", str(REPOSITORY / "datasets")])
    finally:
        os.umask(previous)
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert files and all(path.stat().st_mode & 0o777 == 0o644 for path in files)


def test_sigkill_mid_epoch_and_mid_save_leaves_nothing_behind(unchanged, capsys):
    arguments = ["train", "--corpus", "leopardi", "--quick", "--epochs", "3", "--units", "16",
                 "--step", "5", *folders(unchanged)]
    process = start_lab("labs.poetry", arguments)
    wait_for(process, "epoch 1:")
    process.kill()  # SIGKILL after the first epoch, before the run is saved
    process.communicate()
    dying_save = ("import os, signal, keras, sys\n"
                  "def save(self, path, *args, **kwargs):\n"
                  "    open(path, 'wb').write(b'PK half a model')\n"
                  "    os.kill(os.getpid(), signal.SIGKILL)\n"
                  "keras.Model.save = save\n"
                  "from labs.poetry.cli import main\n"
                  "main(sys.argv[1:])\n")
    killed = subprocess.run([sys.executable, "-c", dying_save, *arguments[:-4], "--epochs", "1",
                             *folders(unchanged)], cwd=REPOSITORY, env=subprocess_env(),
                            capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL
    strays = list((unchanged / "models").rglob(".*.tmp-*"))
    assert strays, "the kill was meant to land mid-save"
    poetry.main([*arguments[:-4], "--epochs", "1", *folders(unchanged)])  # a normal run
    assert "removing unfinished run" in capsys.readouterr().err
    assert not list(unchanged.rglob(".*.tmp-*"))
    statuses = [json.loads(path.read_text())["status"]
                for path in (unchanged / "reports" / "poetry" / "leopardi").rglob("run.json")]
    assert set(statuses) == {"complete"}


# ---------------------------------------------------------------- compare is a run
def compare_runs(root, corpus="leopardi"):
    folder = root / "reports" / "poetry" / corpus / "compare" / "runs"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_a_quick_or_subset_compare_never_replaces_the_full_one(unchanged, capsys):
    full = json.loads((unchanged / "reports" / "poetry" / "leopardi" / "compare" /
                       "latest.json").read_text())["run"]
    reference = ["--reference", str(course_metrics(unchanged))]  # a full run: not for --quick
    for extra in (["--quick", "--configurations", "every-step GRU"],
                  ["--configurations", "every-step GRU", *reference]):
        poetry.main(["compare", "--corpus", "leopardi", "--budget-minutes", "0.02", *extra,
                     "--reports-dir", str(unchanged / "reports"), *world_datasets(unchanged)])
    quick, subset = compare_runs(unchanged)[-2:]
    assert quick.name.endswith("-quick") and subset.name.endswith("-subset")
    assert "QUICK smoke run: the first 30,000 characters" in (quick / "compare.md").read_text()
    assert "SUBSET run: every-step GRU" in (subset / "compare.md").read_text()
    index = (unchanged / "reports" / "index.md").read_text()
    assert f"poetry/leopardi/compare/runs/{full}/compare.png" in index  # the full one, shown
    for run in compare_runs(unchanged):  # each run its own logs, none appended to another's
        for log in run.rglob("training_log.csv"):
            epochs = [line.split(",")[0] for line in log.read_text().splitlines()[1:]]
            assert epochs == [str(number) for number in range(len(epochs))], log


def test_a_compare_with_nothing_to_train_is_refused(unchanged):
    with pytest.raises(SystemExit) as raised:
        poetry.main(["compare", "--corpus", "leopardi", "--configurations",
                     "course next-char LSTM", "--reference", str(course_metrics(unchanged)),
                     "--reports-dir", str(unchanged / "reports")])
    one_line_error(raised, "labs.poetry", "nothing to train")


@pytest.mark.parametrize("content, fragments", [
    (b"{not json", ["not a readable JSON file (JSONDecodeError)"]),
    (b"{}", ["is not a poetry run's metrics.json (no corpus, maxlen, cell)"]),
    (b"[1, 2]", ["is not a poetry run's metrics.json"]),
    ("small", ["is not the course model on leopardi: maxlen 12 (not 40), units 16 (not 128)"]),
    ("nietzsche", ["is not the course model on nietzsche: corpus 'leopardi'"]),
    ("transformer", ["cell 'transformer' (not 'lstm')", "objective 'every-step'"]),
    ("no generation", ["generation_comparison has no stateful chars_per_second above 0"]),
    ("history oops", ["history is not a dict of per-epoch losses"]),
    ("history empty", ["history is not a dict of per-epoch losses (loss, val_loss)"]),
    ("seconds abc", ["training_seconds_per_epoch is not 1 numbers above 0"]),
    ("quick", ["quick is True, this comparison's is False (a QUICK run cannot stand in"]),
    ("quick yes", ["quick is 'yes', not true or false"]),
    ("step 999", ["step is 999, this comparison's is 1"]),
    ("lowercase", ["lowercase is True, this comparison's is False"]),
    ("all NaN", ["history['loss'] is not 1 finite numbers"]),
])
def test_a_bad_reference_is_one_line(unchanged, tmp_path, content, fragments):
    course = json.loads(course_metrics(unchanged).read_text())
    nan_history = {name: [float("nan")] * len(values) for name, values in course["history"].items()}
    planted = {"small": {**course, "maxlen": 12, "units": 16},
               "nietzsche": course,
               "transformer": {**course, "cell": "transformer", "objective": "every-step"},
               "no generation": {**course, "generation_comparison": {}},
               "history oops": {**course, "history": "oops"},
               "history empty": {**course, "history": {}},
               "seconds abc": {**course, "training_seconds_per_epoch": "abc"},
               "quick": {**course, "quick": True}, "step 999": {**course, "step": 999},
               "quick yes": {**course, "quick": "yes"},
               "lowercase": {**course, "lowercase": True}, "all NaN": {**course,
                                                                      "history": nan_history}}
    reference = tmp_path / "metrics.json"
    reference.write_bytes(content if isinstance(content, bytes) else
                          json.dumps(planted[content]).encode())
    corpus = "nietzsche" if content == "nietzsche" else "leopardi"
    started = compare_runs(unchanged, corpus)
    before = tree_bytes(unchanged / "reports", unchanged / "models")
    with pytest.raises(SystemExit) as raised:
        poetry.main(["compare", "--corpus", corpus, "--reference", str(reference),
                     "--reports-dir", str(unchanged / "reports"),
                     *(["--quick"] if content == "quick yes" else [])])
    one_line_error(raised, "labs.poetry", "--reference", *fragments)
    assert compare_runs(unchanged, corpus) == started  # refused before any run started
    assert tree_bytes(unchanged / "reports", unchanged / "models") == before


def test_a_compare_killed_mid_configuration_then_rerun(unchanged):
    arguments = ["compare", "--corpus", "leopardi", "--quick", "--budget-minutes", "0.02",
                 "--configurations", "every-step GRU", "--reports-dir",
                 str(unchanged / "reports"), *world_datasets(unchanged)]
    process = start_lab("labs.poetry", arguments)
    wait_for(process, "[2/2]")
    process.kill()
    process.communicate()
    rerun = subprocess.run([sys.executable, "-m", "labs.poetry", *arguments], cwd=REPOSITORY,
                           env=subprocess_env(), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "removing unfinished run" in rerun.stderr
    statuses = [json.loads((run / "run.json").read_text())["status"]
                for run in compare_runs(unchanged)]
    assert set(statuses) == {"complete"}
    assert not list(unchanged.rglob(".*.tmp-*"))
    # Its header says what ran: one quick epoch of the course model, not "its early stop".
    assert ("the course's next-char LSTM: trained 1 epoch(s) of at most 1: ran every epoch, "
            "no early stop") in (compare_runs(unchanged)[-1] / "compare.md").read_text()


# ---------------------------------------------------------------- resume tells the truth
def interrupted_copy(root, tmp_path):
    """A copy of the world's last poetry run, made to look stopped after its first epoch:
    status interrupted, Keras's backup of epoch 1 beside its best model."""
    from labs.saving import load_model

    source = Path(json.loads((root / "models" / "poetry" / "leopardi" / "latest.json")
                             .read_text())["models"])
    target = tmp_path / "models" / "poetry" / "leopardi" / "runs" / source.name
    shutil.copytree(source, target)
    reports = tmp_path / "reports" / "poetry" / "leopardi" / "runs" / source.name
    shutil.copytree(root / "reports" / "poetry" / "leopardi" / "runs" / source.name, reports)
    status = json.loads((reports / "run.json").read_text())
    (reports / "run.json").write_text(json.dumps({**status, "status": "interrupted"}))
    (target / "backup").mkdir()
    (target / "backup" / "training_metadata.json").write_text('{"epoch": 1, "batch": 0}')
    load_model(target / "model.keras", "test").save_weights(target / "backup" /
                                                             "latest.weights.h5")
    return target, reports


@pytest.mark.parametrize("damage, name", [
    ("metadata", "training_metadata.json"), ("log", "training_log.csv"),
    ("weights", "latest.weights.h5")])
def test_resume_with_a_damaged_backup_is_one_line_and_not_resumable_again(
        unchanged, tmp_path, damage, name):
    models, reports = interrupted_copy(unchanged, tmp_path)
    damaged = {"metadata": models / "backup" / name, "log": reports / name,
               "weights": models / "backup" / name}[damage]
    content = damaged.read_bytes()
    damaged.write_bytes(content[:len(content) // 2] if damage != "log" else
                        b'epoch,loss\n0,1.0,"unclosed\n1,2,3,4,5\n')
    resume = ["train", "--corpus", "leopardi", "--resume", *folders(tmp_path)]
    with pytest.raises(SystemExit) as raised:
        poetry.main(resume)
    one_line_error(raised, "labs.poetry", "cannot be resumed", f"{name} is damaged",
                   "train again without --resume")
    assert json.loads((reports / "run.json").read_text())["status"] == "failed"
    with pytest.raises(SystemExit) as raised:
        poetry.main(resume)
    one_line_error(raised, "labs.poetry", "no interrupted run of poetry/leopardi")


def tree_bytes(*folders):
    """Every file below ``folders`` with its bytes: a refused command changes none."""
    return {str(path): path.read_bytes() for folder in folders
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_resume_refuses_options_that_would_change_the_run(unchanged, tmp_path):
    models, reports = interrupted_copy(unchanged, tmp_path)
    before = tree_bytes(models, reports)
    with pytest.raises(SystemExit) as raised:
        poetry.main(["train", "--corpus", "leopardi", "--resume", "--cell", "transformer",
                     "--units", "64", *folders(tmp_path)])
    one_line_error(raised, "labs.poetry", "--resume continues",
                   "--cell transformer (it has lstm)", "--units 64 (it has 128)")
    assert tree_bytes(models, reports) == before  # still interrupted, byte for byte


def test_ctrl_c_in_the_first_epoch_then_resume_says_nothing_was_saved(tmp_path):
    arguments = ["train", "--corpus", "nietzsche", "--units", "16", *folders(tmp_path)]
    process = start_lab("labs.poetry", arguments)
    wait_for(process, "nb sequences")
    time.sleep(2)  # inside the first epoch (a minute on the whole of Nietzsche)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130 and "after epoch" not in err
    (run,) = (tmp_path / "reports" / "poetry" / "nietzsche" / "runs").iterdir()
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"
    with pytest.raises(SystemExit) as raised:
        poetry.main(["train", "--corpus", "nietzsche", "--resume", *folders(tmp_path)])
    one_line_error(raised, "labs.poetry", f"run {run.name} of poetry/nietzsche stopped before "
                   "its first epoch was saved", "nothing to resume")


def test_ctrl_c_says_after_epoch_n_only_once_epoch_n_is_backed_up():
    from labs.poetry.train import saving_callbacks

    class Saves:
        def callbacks(self, early):
            return ["best model"]

        def backup_callback(self):
            return "backup"

    best, last = saving_callbacks(Saves(), None, "leopardi")
    assert best == ["best model"] and last[0] == "backup"
    assert type(last[-1]).__name__ == "ProgressNote" and "--resume" in last[-1].kept


# ---------------------------------------------------------------- options refused at once
@pytest.mark.parametrize("argv, fragments", [
    (["train", "--cell", "transformer", "--seq-length", "20"],
     ["--seq-length 20 is shorter than maxlen 40"]),
    (["train", "--cell", "transformer", "--seq-length", "1"],
     ["--seq-length 1 is shorter than maxlen 40"]),
    (["train", "--cell", "transformer", "--input", "one-hot"],
     ["--cell transformer reads a learned character embedding"]),
    (["train", "--cell", "transformer", "--embedding-dim", "7"],
     ["leave --input and --embedding-dim out"]),
    (["generate", "--top-k", "3"], ["--top-k applies to --method top-k, not --method temperature"]),
    (["generate", "--method", "top-k", "--top-p", "0.5"], ["--top-p applies to --method top-p"]),
    (["generate", "--run", "../../elsewhere"], ["--run takes a run id", "not a path"]),
    (["generate", "--run", "/tmp/model"], ["--run takes a run id"]),
])
def test_poetry_options_that_cannot_work_are_refused_before_work(unchanged, argv, fragments):
    started = time.monotonic()
    with pytest.raises(SystemExit) as raised:
        poetry.main([*argv, *folders(unchanged)[2 if argv[0] == "generate" else 0:]])
    one_line_error(raised, "labs.poetry", *fragments)
    assert time.monotonic() - started < 10


def test_spam_refuses_more_folds_than_messages_of_a_class_at_once(unchanged):
    started = time.monotonic()
    with pytest.raises(SystemExit) as raised:
        spam.main(spam_args(unchanged, "--folds", "1000"))
    one_line_error(raised, "labs.spam", "--folds 1000 is more than the", "distinct messages")
    assert time.monotonic() - started < 30


def test_spam_predict_refuses_a_path_as_run(unchanged):
    with pytest.raises(SystemExit) as raised:
        spam.main(["predict", "--run", "../../x", "--models-dir", str(unchanged / "models"), "hi"])
    one_line_error(raised, "labs.spam", "--run takes a run id")


@pytest.mark.parametrize("content, line", [(b"caf\xe9 au lait\n", 1),
                                           (b"fine\n\xff\xfe\x00garbage\n", 2)])
def test_predict_on_stdin_that_is_not_utf8(unchanged, content, line, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(content)))  # a pipe's bytes
    with pytest.raises(SystemExit) as raised:
        spam.main(["predict", "--model", "simplernn_padded", "--models-dir",
                   str(unchanged / "models")])
    one_line_error(raised, "labs.spam", f"line {line} of standard input is not UTF-8 text")


def test_a_pointer_to_a_deleted_run_names_the_runs_left(copy_of_world, capsys):
    pointer = json.loads((copy_of_world / "models" / "poetry" / "leopardi" /
                          "latest.json").read_text())
    shutil.rmtree(Path(pointer["models"]))
    (copy_of_world / "models" / "poetry" / "leopardi" / "latest-quick.json").unlink(
        missing_ok=True)  # else generate would fall back on the last quick run, and say so
    with pytest.raises(SystemExit) as raised:
        poetry.main(["generate", "--models-dir", str(copy_of_world / "models")])
    one_line_error(raised, "labs.poetry", "the one it named was deleted", "--run")


def test_a_full_disk_names_the_file_and_publishes_nothing(unchanged, monkeypatch):
    import errno

    from labs import reports

    real = reports.os.replace

    def full(source, target):
        if str(target).endswith("metrics.json"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(source, target)

    monkeypatch.setattr(reports.os, "replace", full)
    with pytest.raises(SystemExit) as raised:
        poetry.main(["train", "--corpus", "leopardi", "--quick", *SMALL_POETRY,
                     *folders(unchanged)])
    one_line_error(raised, "labs.poetry", "no space left on the device", "metrics.json)",
                   "free some space")


def test_an_unexpected_error_marks_the_run_failed(tmp_path, monkeypatch):
    from labs.poetry import train

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(train, "generation_comparison", broken)
    with pytest.raises(RuntimeError):
        poetry.main(["train", "--corpus", "leopardi", "--quick", *SMALL_POETRY,
                     *folders(tmp_path)])
    (run,) = (tmp_path / "reports" / "poetry" / "leopardi" / "runs").iterdir()
    assert json.loads((run / "run.json").read_text())["status"] == "failed"


def test_a_words_text_of_one_huge_token(tmp_path):
    (tmp_path / "nietzsche.txt").write_text("a" * 100_000)
    with pytest.raises(SystemExit) as raised:
        words.main(["--datasets-dir", str(tmp_path), "--reports-dir", str(tmp_path)])
    one_line_error(raised, "labs.words", "nietzsche.txt (words) has 3 tokens",
                   "at least 121 are needed")


def test_notebook_build_of_a_missing_script():
    result = subprocess.run([sys.executable, "notebooks/build.py", "missing.py"],
                            cwd=REPOSITORY, capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == ("notebooks/build.py: error: no script missing.py in "
                                     f"{REPOSITORY / 'notebooks'}; give one of spam.py, "
                                     "poetry.py, gpt2.py (or none for all)")


# Two labs' help (the quiet start is labs/__init__'s, shared by every lab), the
# benchmarks', and one lab's first error.
@pytest.mark.parametrize("arguments", [["labs.poetry", "--help"], ["labs.spam", "--help"],
                                       ["bench.run", "--help"],
                                       ["labs.poetry", "train", "--units", "7", "--heads", "2",
                                        "--cell", "transformer"]])
def test_tensorflow_prints_nothing_before_the_labs_own_text(arguments):
    environment = {key: value for key, value in subprocess_env().items()
                   if key != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-m", *arguments], cwd=REPOSITORY,
                            env=environment, capture_output=True, text=True)
    if "--help" in arguments:
        assert result.returncode == 0 and result.stderr == ""
        assert result.stdout.startswith(f"usage: python -m {arguments[0]}")
    else:
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr == "labs.poetry: error: --units 7 must be a multiple of --heads 2\n"
