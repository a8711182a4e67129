"""Convert the Biblioteca Italiana TEI edition of Leopardi's *Canti* to plain text.

The conversion is specified in ``datasets/README.md`` (and the shared ``SOURCES.md``):
one title line per poem (its number dropped), a blank line, one verse per line,
stanzas separated by one blank line and poems by two. Keeping it as code rather than a
downloaded text file means a user who is online can rebuild ``leopardi.txt`` from the
public XML and get the very bytes the checksum expects.

Usage: ``python -m labs.leopardi_tei SOURCE.xml OUTPUT.txt``
"""

import argparse
import re
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

WHITESPACE = re.compile(r"\s+")
SPEAKER = re.compile(r"\[speaker\](.*?)\[/speaker\]\s*")
TITLE_NUMBER = re.compile(r"^\s*\d+\s+")
# Slips of the transcription, corrected as documented in SOURCES.md.
CAPITALISATION_FIXES = {
    "io so ben che per te gioia non senti,": "Io so ben che per te gioia non senti,",
    "d'un solo istante, ": "D'un solo istante, ",
    "sOvra tutti i felici. ": "Sovra tutti i felici. ",
}


def collapse(text):
    return WHITESPACE.sub(" ", text).strip()


def verse_text(verse):
    """The text of an ``<l>`` element: italic ``<hi>`` markup dropped, its words kept."""
    text = collapse("".join(verse.itertext()))
    text = SPEAKER.sub(lambda match: match.group(1) + ". ", text)
    for wrong, right in CAPITALISATION_FIXES.items():
        if text.startswith(wrong):
            text = right + text[len(wrong):]
    return text


def poem_text(division):
    head = division.find("head")
    if head is None:
        raise ValueError("a poem division has no <head> title")
    title = TITLE_NUMBER.sub("", collapse("".join(head.itertext())))
    stanzas = []
    for stanza in division.iter("lg"):
        stanzas.append("\n".join(verse_text(verse) for verse in stanza.iter("l")))
    return title + "\n\n" + "\n\n".join(stanzas)


def convert(xml_text):
    """Return the plain text of the *Canti* from the TEI XML source (a str)."""
    # The DOCTYPE names an external DTD that ElementTree never fetches; the file
    # uses no entities, so nothing is lost.
    try:
        root = ElementTree.fromstring(xml_text)
    except ElementTree.ParseError as error:
        raise ValueError(f"not well-formed TEI XML: {error}") from None
    body = root.find("text/body")
    if body is None:
        raise ValueError("no <text><body> element: not a BibIt TEI file")
    poems = [poem_text(division) for division in body.findall("div1")]
    if not poems:
        raise ValueError("no poem (<div1>) found in <text><body>")
    return "\n\n\n".join(poems) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the BibIt TEI XML file (bibit000850)")
    parser.add_argument("output", type=Path, help="where to write the plain text")
    args = parser.parse_args(argv)
    from labs.reports import atomic_write_text

    try:
        text = convert(args.source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        sys.exit(f"labs.leopardi_tei: {args.source}: {error}")
    atomic_write_text(args.output, text)
    print(f"wrote {args.output}: {len(text):,} characters")


if __name__ == "__main__":
    main()
