import hashlib
import zipfile

import pytest

from labs import data
from labs.leopardi_tei import convert
from labs.reports import atomic_path, atomic_write_text


def quiet(message):
    pass


def use_dataset(monkeypatch, dataset):
    monkeypatch.setitem(data.DATASETS, dataset.name, dataset)
    return dataset


def test_sms_loader_reads_every_record(known_edition):
    frame = data.load_sms(known_edition("sms_spam.tsv"))
    assert len(frame) == 5574
    assert (frame["label"] == "spam").sum() == 747
    assert frame["text"].str.startswith('"').sum() == 54
    assert frame["text"].str.contains("£").any()


@pytest.mark.parametrize("line, message", [
    ("ham no tab here", "no tab"),
    ("junk\tsome text", "unknown label 'junk'"),
])
def test_sms_loader_names_the_bad_line(tmp_path, line, message):
    path = tmp_path / "sms.tsv"
    path.write_text(f"ham\tfine\nspam\talso fine\n{line}\n", encoding="utf-8")
    with pytest.raises(data.DatasetError, match=rf"sms.tsv:3: {message}"):
        data.load_sms(path)


def test_leopardi_converter_reproduces_the_shared_text_byte_for_byte(shared_source):
    xml = (shared_source / "leopardi_canti_bibit000850.xml").read_text(encoding="utf-8")
    expected = (shared_source / "leopardi.txt").read_bytes()
    assert convert(xml).encode("utf-8") == expected


def test_leopardi_converter_rejects_other_xml():
    with pytest.raises(ValueError, match="no <text><body>"):
        convert("<TEI.2><teiHeader/></TEI.2>")
    with pytest.raises(ValueError, match="not well-formed"):
        convert("<TEI.2><text>")


def test_a_file_in_datasets_wins_and_is_never_overwritten(tmp_path, monkeypatch):
    own = tmp_path / "datasets" / "leopardi.txt"
    own.parent.mkdir()
    own.write_text("Sempre caro mi fu quest'ermo colle\n", encoding="utf-8")
    elsewhere = tmp_path / "shared"
    elsewhere.mkdir()
    (elsewhere / "leopardi.txt").write_text("another edition\n", encoding="utf-8")
    monkeypatch.setenv(data.SEARCH_PATH_VARIABLE, str(elsewhere))
    messages = []
    path = data.locate("leopardi.txt", own.parent, log=messages.append)
    assert path == own
    assert own.read_text(encoding="utf-8").startswith("Sempre caro")
    assert any("differs from the known edition" in message for message in messages)


def test_the_first_search_path_folder_holding_the_file_is_copied(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (second / "nietzsche.txt").write_text("second\n", encoding="utf-8")
    monkeypatch.setenv(data.SEARCH_PATH_VARIABLE, f"{tmp_path / 'missing'}:{first}:{second}")
    (first / "nietzsche.txt").write_text("first\n", encoding="utf-8")
    path = data.locate("nietzsche.txt", tmp_path / "datasets", download=False, log=quiet)
    assert path.read_text(encoding="utf-8") == "first\n"


def test_download_verifies_and_moves_into_place(tmp_path, monkeypatch):
    payload = b"what does not kill me makes me stronger\n"
    source = tmp_path / "source.txt"
    source.write_bytes(payload)
    use_dataset(monkeypatch, data.Dataset(
        name="nietzsche.txt", sha256=hashlib.sha256(payload).hexdigest(),
        url=source.as_uri()))
    monkeypatch.setenv(data.SEARCH_PATH_VARIABLE, "")
    path = data.locate("nietzsche.txt", tmp_path / "datasets", log=quiet)
    assert path.read_bytes() == payload


def test_download_extracts_the_zip_member(tmp_path, monkeypatch):
    payload = b"ham\tOk lar...\nspam\tFREE entry\n"
    archive = tmp_path / "sms.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("readme", "the collection")
        zipped.writestr("SMSSpamCollection", payload)
    use_dataset(monkeypatch, data.Dataset(
        name="sms_spam.tsv", sha256=hashlib.sha256(payload).hexdigest(), url=archive.as_uri(),
        unpack="zip:SMSSpamCollection"))
    monkeypatch.setenv(data.SEARCH_PATH_VARIABLE, "")
    path = data.locate("sms_spam.tsv", tmp_path / "datasets", log=quiet)
    assert list(data.load_sms(path)["label"]) == ["ham", "spam"]


def test_leopardi_download_converts_the_tei_source(tmp_path, monkeypatch, shared_source):
    xml = shared_source / "leopardi_canti_bibit000850.xml"
    dataset = data.DATASETS["leopardi.txt"]
    use_dataset(monkeypatch, data.Dataset(**{**dataset.__dict__, "url": xml.as_uri()}))
    monkeypatch.setenv(data.SEARCH_PATH_VARIABLE, "")
    path = data.locate("leopardi.txt", tmp_path / "datasets", log=quiet)
    assert data.sha256_of(path) == dataset.sha256


def test_checksum_mismatch_leaves_nothing_behind(tmp_path, monkeypatch):
    source = tmp_path / "source.txt"
    source.write_bytes(b"tampered\n")
    use_dataset(monkeypatch, data.Dataset(
        name="nietzsche.txt", sha256="0" * 64, url=source.as_uri()))
    monkeypatch.setenv(data.SEARCH_PATH_VARIABLE, "")
    datasets_dir = tmp_path / "datasets"
    with pytest.raises(data.DatasetError, match="checksum mismatch"):
        data.locate("nietzsche.txt", datasets_dir, log=quiet)
    assert not datasets_dir.exists() or not any(datasets_dir.iterdir())


def test_download_over_http(tmp_path, monkeypatch):
    import functools
    import http.server
    import threading

    payload = b"served over http\n"
    (tmp_path / "nietzsche.txt").write_bytes(payload)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        use_dataset(monkeypatch, data.Dataset(
            name="nietzsche.txt", sha256=hashlib.sha256(payload).hexdigest(),
            url=f"http://127.0.0.1:{server.server_port}/nietzsche.txt"))
        monkeypatch.setenv(data.SEARCH_PATH_VARIABLE, "")
        path = data.locate("nietzsche.txt", tmp_path / "datasets", log=quiet)
    finally:
        server.shutdown()
    assert path.read_bytes() == payload


def test_nothing_found_offline_names_file_places_url_and_remedy(tmp_path, monkeypatch):
    source = tmp_path / "nowhere" / "nietzsche.txt"
    use_dataset(monkeypatch, data.Dataset(
        name="nietzsche.txt", sha256="0" * 64, url=source.as_uri()))
    monkeypatch.setenv(data.SEARCH_PATH_VARIABLE, str(tmp_path / "empty"))
    with pytest.raises(data.DatasetError) as raised:
        data.locate("nietzsche.txt", tmp_path / "datasets", log=quiet)
    message = str(raised.value)
    for expected in ("cannot find nietzsche.txt", str(tmp_path / "empty" / "nietzsche.txt"),
                     source.as_uri(), "set RNN_LABS_DATA"):
        assert expected in message


def test_make_data_cli_fails_cleanly_offline(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(data.SEARCH_PATH_VARIABLE, "")
    with pytest.raises(SystemExit) as raised:
        data.main(["nietzsche.txt", "--datasets-dir", str(tmp_path), "--no-download"])
    assert "labs.data: error: cannot find nietzsche.txt" in str(raised.value.code)
    with pytest.raises(SystemExit):
        data.main(["poems.txt"])
    assert "unknown dataset poems.txt" in capsys.readouterr().err


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "report.md"
    atomic_write_text(target, "old\n")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old\n"
    assert [path.name for path in tmp_path.iterdir()] == ["report.md"]


def test_describe_prints_label_counts_and_characters(dataset_path):
    assert "5,574 messages (4,827 ham, 747 spam)" in data.describe(dataset_path("sms_spam.tsv"))
    assert "135,666 characters, 63 distinct" in data.describe(dataset_path("leopardi.txt"))
