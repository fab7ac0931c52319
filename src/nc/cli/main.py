"""The ``nc`` console script: nc as a neural tokenizer outside the workflow (docs/CLI.md).

    nc compress --method 'EqualInfoAC[b=16;v=65k]' --m1 RUN_DIR IN OUT
    nc decompress --m1 RUN_DIR IN OUT
    nc generate --m2 RUN_DIR [--m1 RUN_DIR] --prompt TEXT --max-bytes N

Errors (a bad method, a missing model, a file that is not intact or was compressed with another
model) are printed as one line naming what is wrong, with exit status 2; nothing is written then.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from nc.cli.codec import DEFAULT_BLOCK_BYTES, Models, compress_file, decompress_file
from nc.cli.generate import Generation, Generator, Sampling
from nc.coding import CorruptStreamError
from nc.methods import PAPER_PRECISION, parse_method
from nc.sections import CodingConfig

EXIT_ERROR = 2


def _model_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--m1", type=Path, help="M1 run directory (AC, EqualInfoAC)")
    parser.add_argument("--unigram", type=Path, help="byte unigram JSON with byte_counts (StaticAC)")
    parser.add_argument("--tokenizer", type=Path, help="SentencePiece model file (SentencePiece)")


def _coding_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--precision", type=int, default=PAPER_PRECISION, help=f"range-coder precision (default {PAPER_PRECISION})"
    )
    parser.add_argument("--m1-call-mb", type=float, default=256.0, help="working memory of one M1 call")
    parser.add_argument("--m1-max-rows", type=int, default=256, help="at most this many rows per M1 call")
    parser.add_argument(
        "--batch-size", type=int, default=CodingConfig.batch_size, help="rows per call of the StaticAC source"
    )
    parser.add_argument("--m1-length-step", type=int, default=64, help="AC contexts are multiples of this")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nc", description="Compress and decompress files with nc methods; generate text with a trained M2."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    compress = commands.add_parser("compress", help="compress a file with a method")
    compress.add_argument("--method", required=True, help="method label, e.g. 'EqualInfoAC[b=16;v=65k]'")
    _model_flags(compress)
    _coding_flags(compress)
    compress.add_argument("--block-bytes", type=int, default=DEFAULT_BLOCK_BYTES, help="bytes coded as one example")
    compress.add_argument("--quiet", action="store_true", help="no progress bar")
    compress.add_argument("input", type=Path)
    compress.add_argument("output", type=Path)

    decompress = commands.add_parser("decompress", help="decompress a file written by nc compress")
    _model_flags(decompress)
    _coding_flags(decompress)
    decompress.add_argument("--quiet", action="store_true", help="no progress bar")
    decompress.add_argument("input", type=Path)
    decompress.add_argument("output", type=Path)

    generate = commands.add_parser("generate", help="sample text from a trained M2, streamed to stdout")
    generate.add_argument("--m2", type=Path, required=True, help="M2 run directory (its config.json names the method)")
    _model_flags(generate)
    _coding_flags(generate)
    generate.add_argument("--prompt", default="", help="text the generation continues (default: none)")
    generate.add_argument("--max-bytes", type=int, default=256, help="generate at most this many bytes")
    generate.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (0: greedy)")
    generate.add_argument("--top-k", type=int, default=0, help="sample among the k likeliest tokens (0: all)")
    generate.add_argument("--seed", type=int, default=0, help="seed of the sampler")
    return parser


def _coding(args: argparse.Namespace) -> CodingConfig:
    return CodingConfig(
        precision=args.precision,
        m1_call_mb=args.m1_call_mb,
        m1_max_rows=args.m1_max_rows,
        m1_length_step=args.m1_length_step,
        batch_size=args.batch_size,
    )


def run(args: argparse.Namespace) -> int:
    models = Models(m1_dir=args.m1, unigram=args.unigram, tokenizer=args.tokenizer)
    if args.command == "compress":
        header = compress_file(
            args.input, args.output, parse_method(args.method), models, _coding(args), args.block_bytes, not args.quiet
        )
        size = args.output.stat().st_size
        print(f"{args.input}: {header.input_bytes} B -> {args.output}: {size} B ({header.method})", file=sys.stderr)
    elif args.command == "decompress":
        header = decompress_file(args.input, args.output, models, _coding(args), not args.quiet)
        print(f"{args.input} ({header.method}) -> {args.output}: {header.input_bytes} B", file=sys.stderr)
    elif args.command == "generate":
        _report(_generate(args, models))
    return 0


def _generate(args: argparse.Namespace, models: Models) -> Generation:
    generator = Generator(args.m2, models, _coding(args))
    sampling = Sampling(temperature=args.temperature, top_k=args.top_k, seed=args.seed)
    stdout = sys.stdout.buffer

    def stream(text: bytes) -> None:
        stdout.write(text)
        stdout.flush()

    result = generator.generate(args.prompt.encode("utf-8"), args.max_bytes, sampling, on_text=stream)
    stdout.write(b"\n")
    stdout.flush()
    return result


def _report(result: Generation) -> None:
    """One line on stderr: what was generated and what it cost."""
    ms_per_byte = 1e3 * (result.m2_s + result.decode_s) / max(1, len(result.text))
    print(
        f"{result.method}: {len(result.text)} B in {result.steps} M2 steps ({result.bytes_per_step:.2f} B/step), "
        f"M2 {result.m2_s:.2f} s, decode {result.decode_s:.2f} s ({ms_per_byte:.2f} ms/B); "
        f"prompt: {result.prompt_tokens} tokens fixing {len(result.prompt_text)} B; "
        f"windows no text encodes to: {result.dropped_windows}; stop: {result.stop}",
        file=sys.stderr,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except (ValueError, FileNotFoundError, CorruptStreamError) as error:
        # ContainerError is a ValueError; each names the bad flag, file or value.
        print(f"nc {args.command}: error: {error}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
