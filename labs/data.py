"""The dataset layer: find, fetch, verify and load the labs' three datasets.

Each file is resolved in this order, so a user can always bring their own edition:

1. ``datasets/<name>``: used as it is (its real statistics are printed; a checksum that
   differs from the known edition is a warning, never a reason to overwrite it);
2. a copy from the first folder on the data search path that holds it (the environment
   variable ``RNN_LABS_DATA``, folders separated by ``:`` as in ``NLTK_DATA``);
3. a download from the canonical source, with a progress bar, verified against its
   sha256 before it is moved into place.

Usage: ``python -m labs.data [NAME ...]`` fetches (if needed) and describes the files.
"""

import argparse
import collections
import hashlib
import io
import os
import shutil
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from labs.cli import DATASETS_DIR, LabError, add_folder_options, run_lab
from labs.reports import atomic_path

SEARCH_PATH_VARIABLE = "RNN_LABS_DATA"
DOWNLOAD_TIMEOUT_SECONDS = 20
SMS_LABELS = ("ham", "spam")
VALIDATION_FRACTION = 0.1


class DatasetError(LabError):
    """A dataset cannot be found, fetched, verified or parsed; the message says what to do."""


@dataclass(frozen=True)
class Dataset:
    name: str
    sha256: str
    url: str
    # How the downloaded bytes become the file: "plain" (as is), "zip:<member>" (one
    # member of a zip archive) or "leopardi-tei" (the TEI XML, converted to text).
    unpack: str = "plain"
    source_sha256: str = ""  # checksum of the downloaded XML, for "leopardi-tei"


DATASETS = {
    dataset.name: dataset
    for dataset in (
        Dataset(
            name="sms_spam.tsv",
            sha256="7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d",
            url="https://archive.ics.uci.edu/static/public/228/sms+spam+collection.zip",
            unpack="zip:SMSSpamCollection",
        ),
        Dataset(
            name="nietzsche.txt",
            sha256="23cf69874ab69d3d256099ab530ea4be24d47d9675b673bcc67cbcd6298ec647",
            url="https://s3.amazonaws.com/text-datasets/nietzsche.txt",
        ),
        Dataset(
            name="leopardi.txt",
            sha256="b10591d023856021dbd3ef19e1d626fa78e960ec84915082be97de635f61b510",
            url=(
                "https://raw.githubusercontent.com/linhd-postdata/biblioteca_italiana/"
                "e35bc1abfafc7adac37ac0c833348ff1137939b9/xml/bibit000850"
            ),
            unpack="leopardi-tei",
            source_sha256="0857e6bc77e9721473e3c00b851988b8f656bef58afe60c641cf654d7bb06309",
        ),
    )
}


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def search_path():
    """The folders named by ``RNN_LABS_DATA``, in order (empty entries ignored)."""
    value = os.environ.get(SEARCH_PATH_VARIABLE, "")
    return [Path(entry) for entry in value.split(os.pathsep) if entry]


def locate(name, datasets_dir=DATASETS_DIR, download=True, log=print):
    """Return the path of dataset ``name`` in ``datasets_dir``, copying or fetching it first.

    Raises ``DatasetError`` with one message naming every place searched when the file
    is nowhere to be had.
    """
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    dataset = DATASETS[name]
    datasets_dir = Path(datasets_dir)
    if datasets_dir.exists() and not datasets_dir.is_dir():
        raise DatasetError(f"{datasets_dir} is a file, not a folder; move it away or pass "
                           "--datasets-dir")
    target = datasets_dir / name
    if target.is_file():
        if (digest := sha256_of(target)) != dataset.sha256:
            log(f"warning: {target} differs from the known edition of {name} (its sha256 "
                f"{digest[:12]}…, the known edition's {dataset.sha256[:12]}…); using it as it "
                "is, with its own statistics")
        return target
    for folder in search_path():
        candidate = folder / name
        if candidate.is_file():
            return copy_from_search_path(candidate, target, dataset, log)
    searched = [str(target)] + [str(folder / name) for folder in search_path()]
    if not search_path():
        searched.append(f"(${SEARCH_PATH_VARIABLE} is not set)")
    if not download:
        raise DatasetError(_missing_message(dataset, target, searched, "downloads disabled"))
    try:
        fetch(dataset, target, log=log)
    except DatasetError as error:
        raise DatasetError(_missing_message(dataset, target, searched, str(error))) from None
    return target


def copy_from_search_path(candidate, target, dataset, log):
    """Copy a verified file into datasets/; one that differs from the known edition is
    used where it is, with a warning, so that fixing the shared copy fixes the labs."""
    if (digest := sha256_of(candidate)) != dataset.sha256:
        log(f"warning: {candidate} differs from the known edition of {dataset.name} (its "
            f"sha256 {digest[:12]}…, the known edition's {dataset.sha256[:12]}…); using it in "
            f"place, not copying it into {target.parent}")
        return candidate
    with atomic_path(target) as temporary:
        shutil.copyfile(candidate, temporary)
    log(f"copied {candidate} -> {target} (sha256 verified)")
    return target


def _missing_message(dataset, target, searched, reason):
    return (f"cannot find {dataset.name}: searched {', '.join(searched)}; download from "
            f"{dataset.url} failed ({reason}). Put the file at {target} or set "
            f"{SEARCH_PATH_VARIABLE} to a folder that holds it.")


def fetch(dataset, target, log=print):
    """Download ``dataset`` from its URL, unpack and verify it, then move it to ``target``.

    Nothing is left at ``target`` unless the sha256 matches.
    """
    payload = _download(dataset.url)
    if dataset.unpack.startswith("zip:"):
        member = dataset.unpack[len("zip:"):]
        try:
            with zipfile.ZipFile(io.BytesIO(payload)) as archive:
                payload = archive.read(member)
        except (zipfile.BadZipFile, KeyError) as error:
            raise DatasetError(f"{dataset.url} is not a zip holding {member}: {error}") from None
    elif dataset.unpack == "leopardi-tei":
        _verify(payload, dataset.source_sha256, dataset.url)
        from labs.leopardi_tei import convert

        try:
            payload = convert(payload.decode("utf-8")).encode("utf-8")
        except (UnicodeDecodeError, ValueError) as error:
            raise DatasetError(f"cannot convert {dataset.url}: {error}") from None
    _verify(payload, dataset.sha256, dataset.url)
    with atomic_path(target) as temporary:
        temporary.write_bytes(payload)
    log(f"downloaded {dataset.url} -> {target} (sha256 verified)")


def _verify(payload, expected, url):
    actual = hashlib.sha256(payload).hexdigest()
    if actual != expected:
        raise DatasetError(f"checksum mismatch for {url}: sha256 {actual}, expected {expected}")


def _download(url):
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            chunks = []
            with tqdm(total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1],
                      disable=None) as progress:
                for chunk in iter(lambda: response.read(1 << 16), b""):
                    chunks.append(chunk)
                    progress.update(len(chunk))
            return b"".join(chunks)
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise DatasetError(f"{type(error).__name__}: {reason}") from None


def split_holdout(sequence, fraction=VALIDATION_FRACTION):
    """The first ``1 - fraction`` of a text (or token list) for training, the last
    ``fraction``, contiguous, for validation: the model is tested on text it never read."""
    cut = int(len(sequence) * (1 - fraction))
    return sequence[:cut], sequence[cut:]


def load_sms(path):
    """Load the SMS Spam Collection as a DataFrame with columns ``label`` and ``text``.

    Parsed line by line (``label<TAB>text``) rather than as CSV: 54 messages begin with
    a double quote, and default CSV quoting silently swallows two records.
    """
    path = Path(path)
    labels, texts = [], []
    lines = path.read_bytes().split(b"\n")
    if lines and not lines[-1]:
        lines.pop()  # the newline that ends the last record
    for number, raw in enumerate(lines, 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise DatasetError(f"{path}:{number}: not UTF-8 text (byte {error.start + 1} "
                               "of the line); save the file as UTF-8") from None
        if "\t" not in line:
            raise DatasetError(f"{path}:{number}: no tab between label and text; "
                               "expected 'ham<TAB>text' or 'spam<TAB>text'")
        label, text = line.split("\t", 1)
        if label not in SMS_LABELS:
            raise DatasetError(f"{path}:{number}: unknown label {label!r}; "
                               f"expected one of {', '.join(SMS_LABELS)}")
        labels.append(label)
        texts.append(text)
    if not labels:
        raise DatasetError(f"{path}: no messages")
    return pd.DataFrame({"label": labels, "text": texts})


def load_text(path):
    """Read a corpus as UTF-8 text, with a clear error for anything else."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path}: not UTF-8 text (byte {error.start}); "
                           "save it as UTF-8") from None
    if not text.strip():
        raise DatasetError(f"{path}: the corpus is empty")
    return text


def describe(path):
    """One line of statistics for a dataset file, as ``make data`` prints them."""
    path = Path(path)
    size = path.stat().st_size
    if path.name == DATASETS["sms_spam.tsv"].name:
        frame = load_sms(path)
        counts = collections.Counter(frame["label"])
        return (f"{path}: {size:,} bytes, {len(frame):,} messages "
                f"({counts['ham']:,} ham, {counts['spam']:,} spam), "
                f"{frame['text'].nunique():,} distinct texts")
    text = load_text(path)
    return (f"{path}: {size:,} bytes, {len(text):,} characters, "
            f"{len(set(text))} distinct ({len(set(text.lower()))} after lowercasing)")


def prepare(args):
    for name in args.names or DATASETS:
        path = locate(name, args.datasets_dir, download=not args.no_download)
        print(describe(path))


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m labs.data",
        description="Fetch (if needed), verify and describe the labs' datasets.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"datasets to prepare (default: all of {', '.join(DATASETS)})")
    add_folder_options(parser, reports_dir=None)
    parser.add_argument("--no-download", action="store_true",
                        help="only look in the datasets folder and on the search path")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(DATASETS))
    if unknown:
        parser.error(f"unknown dataset {', '.join(unknown)}; choose from {', '.join(DATASETS)}")
    run_lab("labs.data", prepare, args)


if __name__ == "__main__":
    main()
