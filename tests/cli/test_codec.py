"""``nc compress`` / ``nc decompress``: byte-exact round trips for every method; files that are not
intact, or were compressed with another model, are refused with one line and no output file."""

import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nc.cli.main import EXIT_ERROR, main
from nc.coding.container import MAGIC, Block, ContainerError, ContainerHeader, pack, unpack

METHODS = (
    "Bytes",
    "SentencePiece",
    "GZip[v=256]",
    "StaticAC[v=256]",
    "AC[v=256]",
    "AC[v=65k]",
    "EqualInfoAC[b=16;v=256]",
    "EqualInfoAC[b=16;v=65k]",
    "EqualInfoAC[b=16;v=256;delay]",
    "EqualInfoAC[b=16;v=256;reset=2]",
)


@pytest.fixture(scope="module")
def text_file(tmp_path_factory, english_text):
    path = tmp_path_factory.mktemp("text") / "input.txt"
    path.write_bytes(english_text[:2_500])  # four full blocks of 512 bytes and a short last one
    return path


def _compress(models, method, source, target, *extra):
    return main(["compress", "--quiet", "--method", method, *models["flags"], "--block-bytes", "512", *extra,
                 str(source), str(target)])  # fmt: skip


def _decompress(models, source, target, m1=None):
    flags = list(models["flags"])
    if m1 is not None:
        flags[1] = str(m1)
    return main(["decompress", "--quiet", *flags, str(source), str(target)])


@pytest.mark.parametrize("method", METHODS)
def test_every_method_round_trips_byte_exact(models, text_file, tmp_path, method):
    packed, restored = tmp_path / "packed.nc", tmp_path / "restored.txt"
    assert _compress(models, method, text_file, packed) == 0
    header, blocks = unpack(packed.read_bytes())
    assert header.method == method and header.input_bytes == text_file.stat().st_size
    assert [b.num_bytes for b in blocks] == [512] * 4 + [452]
    assert (header.model_sha256 is None) == (method in ("Bytes", "GZip[v=256]"))
    assert _decompress(models, packed, restored) == 0
    assert restored.read_bytes() == text_file.read_bytes()


@pytest.mark.parametrize("method", ("Bytes", "AC[v=256]", "EqualInfoAC[b=16;v=65k]"))
def test_binary_input_round_trips(models, tmp_path, method):
    source = tmp_path / "random.bin"
    source.write_bytes(np.random.default_rng(1).integers(0, 256, 1024, dtype=np.uint8).tobytes())  # two 512-byte blocks
    assert _compress(models, method, source, tmp_path / "packed.nc") == 0
    assert _decompress(models, tmp_path / "packed.nc", tmp_path / "out.bin") == 0
    assert (tmp_path / "out.bin").read_bytes() == source.read_bytes()


def test_sentencepiece_refuses_text_it_cannot_give_back(models, tmp_path, capsys):
    source = tmp_path / "latin1.txt"
    source.write_bytes("caf\xe9 na\xefve ".encode("latin-1") * 10)  # not UTF-8
    target = tmp_path / "packed.nc"
    assert _compress(models, "SentencePiece", source, target) == EXIT_ERROR
    assert "use a bitstream method" in capsys.readouterr().err
    assert not target.exists()


@pytest.fixture(scope="module")
def equal_info_file(models, text_file, tmp_path_factory):
    packed = tmp_path_factory.mktemp("packed") / "packed.nc"
    assert _compress(models, "EqualInfoAC[b=16;v=65k]", text_file, packed) == 0
    return packed


def _refused(capsys, code: int, target, *phrases: str) -> None:
    err = capsys.readouterr().err
    assert code == EXIT_ERROR, err
    assert err.count("\n") == 1 and err.startswith("nc decompress: error: "), err
    for phrase in phrases:
        assert phrase in err, err
    assert not target.exists()


def test_another_m1_is_refused(models, equal_info_file, tmp_path, capsys):
    target = tmp_path / "out.txt"
    code = _decompress(models, equal_info_file, target, m1=models["other_m1"])
    _refused(capsys, code, target, "SHA-256", "the model it was compressed with")


@pytest.mark.parametrize("cut", (1, 7, 100))
def test_truncated_file_is_refused(models, equal_info_file, tmp_path, capsys, cut):
    source, target = tmp_path / "cut.nc", tmp_path / "out.txt"
    source.write_bytes(equal_info_file.read_bytes()[:-cut])
    _refused(capsys, _decompress(models, source, target), target, "truncated or corrupted")


@pytest.mark.parametrize("position", (5, 40, 200, -6))
def test_corrupted_byte_is_refused(models, equal_info_file, tmp_path, capsys, position):
    data = bytearray(equal_info_file.read_bytes())
    data[position] ^= 0x10
    source, target = tmp_path / "bad.nc", tmp_path / "out.txt"
    source.write_bytes(bytes(data))
    _refused(capsys, _decompress(models, source, target), target)


def test_other_files_are_refused(models, text_file, tmp_path, capsys):
    target = tmp_path / "out.txt"
    _refused(capsys, _decompress(models, text_file, target), target, "not an nc compressed file")
    future = tmp_path / "future.nc"
    future.write_bytes(MAGIC + bytes([99]) + bytes(20))
    _refused(capsys, _decompress(models, future, target), target, "format version 99")


def _resealed(data: bytes) -> bytes:
    """``data`` with its trailing CRC32 recomputed: an alteration only the decoder itself can catch."""
    body = data[:-4]
    return body + zlib.crc32(body).to_bytes(4, "big")


@pytest.mark.parametrize("method", ("Bytes", "StaticAC[v=256]", "EqualInfoAC[b=16;v=65k]"))
def test_altered_payload_never_decodes_to_wrong_bytes(models, text_file, tmp_path, capsys, method):
    packed = tmp_path / "packed.nc"
    assert _compress(models, method, text_file, packed) == 0
    capsys.readouterr()
    header, blocks = unpack(packed.read_bytes())
    target = tmp_path / "out.txt"
    rng = np.random.default_rng(0)
    for trial in range(3):
        altered = list(blocks)
        index = int(rng.integers(len(blocks)))
        payload = bytearray(blocks[index].payload)
        payload[int(rng.integers(len(payload)))] ^= 1 << int(rng.integers(8))
        altered[index] = Block(blocks[index].num_bytes, blocks[index].num_bits, bytes(payload), blocks[index].side_info)
        source = tmp_path / f"altered{trial}.nc"
        source.write_bytes(_resealed(pack(header, altered)))
        code = _decompress(models, source, target)
        err = capsys.readouterr().err
        if code == 0:  # a flip the decoder cannot see must still give back the very bytes compressed
            assert target.read_bytes() == text_file.read_bytes()
            target.unlink()
        else:
            assert code == EXIT_ERROR and err.startswith("nc decompress: error: "), err
            assert not target.exists()


def test_missing_model_flag_is_named(text_file, tmp_path, capsys):
    target = tmp_path / "packed.nc"
    code = main(["compress", "--quiet", "--method", "AC[v=256]", str(text_file), str(target)])
    assert code == EXIT_ERROR
    assert "AC[v=256] needs --m1" in capsys.readouterr().err
    assert not target.exists()


_headers = st.builds(
    ContainerHeader,
    method=st.sampled_from(METHODS),
    precision=st.integers(1, 31),
    model_sha256=st.none() | st.text("0123456789abcdef", min_size=64, max_size=64),
    m1_call_mb=st.none() | st.floats(1, 1e6),
    m1_max_rows=st.none() | st.integers(1, 4096),
    block_bytes=st.integers(1, 1 << 20),
    input_bytes=st.integers(0, 1 << 40),
    input_crc32=st.integers(0, (1 << 32) - 1),
)
_blocks = st.lists(
    st.tuples(st.integers(0, 1 << 20), st.binary(max_size=40), st.integers(0, 7), st.binary(max_size=12)).map(
        lambda t: Block(t[0], max(0, len(t[1]) * 8 - (t[2] if t[1] else 0)), t[1], t[3])
    ),
    max_size=6,
)


@given(_headers, _blocks)
def test_container_round_trips(header, blocks):
    assert unpack(pack(header, blocks)) == (header, blocks)


@given(_headers, _blocks, st.data())
def test_container_refuses_any_cut(header, blocks, data):
    packed = pack(header, blocks)
    cut = data.draw(st.integers(1, len(packed)))
    with pytest.raises(ContainerError):
        unpack(packed[:-cut])
