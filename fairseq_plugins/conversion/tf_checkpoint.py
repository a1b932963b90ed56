"""TensorFlow checkpoints (the "tensor bundle" of ``tf.train.Saver`` / ``SaveV2``) without TensorFlow.

Google's BERT releases are such checkpoints, and TensorFlow is too large a dependency for a file format,
so both directions are written here from the format's facts:

- ``PREFIX.data-00000-of-00001``: the tensors' raw little-endian bytes, one after another, in the order
  they were added;
- ``PREFIX.index``: a LevelDB-format table (sorted keys) mapping ``""`` to a ``BundleHeaderProto`` and each
  tensor name to a ``BundleEntryProto`` (dtype, shape, shard, offset, size, masked crc32c of the bytes).
  Table layout: data blocks of prefix-compressed entries with a restart point every 16 keys, each block
  followed by a compression byte (0: none) and the masked crc32c of block + that byte; an empty metaindex
  block; an index block (one entry per data block: a short key >= its last key -> the block's offset and
  size); a 48-byte footer (the two blocks' handles, zero-padded to 40 bytes, magic 0xdb4775248b80fb57).
- ``checkpoint``: a text file naming the newest prefix, which ``tf.train.load_checkpoint(folder)`` reads.

The protobuf messages are few and flat, so they are encoded by hand (varints, field numbers of
``tensor_bundle.proto`` and ``tensor_shape.proto``). crc32c is vectorised with numpy, as a BERT-base
bundle holds 440 MB.
"""
from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from typing import Dict, Iterator, List, Mapping, Optional, Tuple

import numpy as np

from ..errors import InputError

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_SIZE = 262144  # TensorFlow's table option for bundle indexes (LevelDB's default is 4 KB)
RESTART_INTERVAL = 16
STATE_FILE = "checkpoint"
# DataType enum values (types.proto) for the dtypes a BERT checkpoint holds.
DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 9: np.int64, 19: np.float16}
DTYPE_IDS = {np.dtype(v): k for k, v in DTYPES.items()}
_BUNDLE_VERSION = 1  # kTensorBundleVersion: VersionDef.producer of the header


# ---- crc32c (Castagnoli), as LevelDB and the tensor bundle use it -------------------------------------------

def _crc_table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(0x82F63B78), table >> 1).astype(np.uint32)
    return table


_TABLE = _crc_table()
_TABLE_LIST = _TABLE.tolist()
_LANES = 8192  # independent chunks processed side by side for large buffers


def _crc_update(register: int, data) -> int:
    table = _TABLE_LIST
    for b in data:
        register = table[(register ^ b) & 0xFF] ^ (register >> 8)
    return register


def crc32c(data) -> int:
    """crc32c of ``data`` (bytes-like). Large buffers are cut into equal chunks whose CRC registers advance
    together in numpy; since feeding bytes is affine in the register, chunk results are then combined with
    the linear map "feed L zero bytes", obtained by running 32 unit registers alongside on zeros."""
    buf = np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8)
    length = len(buf) // _LANES
    if length < 16:
        return _crc_update(0xFFFFFFFF, buf.tobytes()) ^ 0xFFFFFFFF
    chunks = np.zeros((length, _LANES + 32), dtype=np.uint8)  # 32 extra lanes of zeros for the shift map
    chunks[:, :_LANES] = buf[:_LANES * length].reshape(_LANES, length).T
    register = np.zeros(_LANES + 32, dtype=np.uint32)
    register[0] = 0xFFFFFFFF
    register[_LANES:] = np.left_shift(np.uint32(1), np.arange(32, dtype=np.uint32))
    for column in chunks:
        register = _TABLE[(register ^ column) & 0xFF] ^ (register >> 8)
    images = register[_LANES:]  # shift(e_k) for each bit k
    bits = (np.arange(256)[:, None] >> np.arange(8)) & 1  # 256 x 8
    shift = [np.bitwise_xor.reduce(np.where(bits, images[8 * j:8 * j + 8], 0), axis=1).astype(np.uint32).tolist()
             for j in range(4)]
    s0, s1, s2, s3 = shift
    acc = 0
    for r in register[:_LANES].tolist():
        acc = s0[acc & 0xFF] ^ s1[(acc >> 8) & 0xFF] ^ s2[(acc >> 16) & 0xFF] ^ s3[acc >> 24] ^ r
    return _crc_update(acc, buf[_LANES * length:].tobytes()) ^ 0xFFFFFFFF


def masked_crc32c(data) -> int:
    """LevelDB's stored form of a crc (rotated and offset, so a crc of data holding crcs is not degenerate)."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


# ---- protobuf wire format (varints, length-delimited fields, fixed32) ----------------------------------------

def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(buf: bytes, pos: int) -> Tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 10 bytes")


def _field_varint(number: int, value: int) -> bytes:
    """A varint field; proto3 leaves zero values out."""
    return _varint(number << 3) + _varint(value) if value else b""


def _field_bytes(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _parse_message(buf: bytes) -> Dict[int, list]:
    """Field number -> values (ints for varint/fixed, bytes for length-delimited)."""
    fields: Dict[int, list] = {}
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 2:
            size, pos = _read_varint(buf, pos)
            value, pos = bytes(buf[pos:pos + size]), pos + size
            if pos > len(buf):
                raise ValueError("length-delimited field runs past the message")
        elif wire == 5:
            value, pos = struct.unpack_from("<I", buf, pos)[0], pos + 4
        elif wire == 1:
            value, pos = struct.unpack_from("<Q", buf, pos)[0], pos + 8
        else:
            raise ValueError(f"unsupported wire type {wire}")
        fields.setdefault(number, []).append(value)
    return fields


@dataclass(frozen=True)
class BundleEntry:
    """Where a tensor lies in the data file(s), with its dtype (DataType enum) and shape."""
    dtype: int
    shape: Tuple[int, ...]
    shard_id: int
    offset: int
    size: int
    crc32c: int  # masked
    sliced: bool = False

    def encode(self) -> bytes:
        dims = b"".join(_field_bytes(2, _field_varint(1, d)) for d in self.shape)  # TensorShapeProto.dim
        return (_field_varint(1, self.dtype) + _field_bytes(2, dims) + _field_varint(3, self.shard_id)
                + _field_varint(4, self.offset) + _field_varint(5, self.size)
                + _varint(6 << 3 | 5) + struct.pack("<I", self.crc32c))

    @classmethod
    def decode(cls, buf: bytes) -> "BundleEntry":
        f = _parse_message(buf)
        shape_fields = _parse_message(f.get(2, [b""])[-1])
        if shape_fields.get(3, [0])[-1]:
            raise ValueError("tensor of unknown rank")
        shape = tuple(_parse_message(d).get(1, [0])[-1] for d in shape_fields.get(2, []))
        return cls(dtype=f.get(1, [0])[-1], shape=shape, shard_id=f.get(3, [0])[-1], offset=f.get(4, [0])[-1],
                   size=f.get(5, [0])[-1], crc32c=f.get(6, [0])[-1], sliced=7 in f)


def _encode_header(num_shards: int) -> bytes:
    """BundleHeaderProto: num_shards, endianness (LITTLE = 0, left out), version {producer}."""
    return _field_varint(1, num_shards) + _field_bytes(3, _field_varint(1, _BUNDLE_VERSION))


# ---- LevelDB table ------------------------------------------------------------------------------------------

class _BlockBuilder:
    def __init__(self, restart_interval: int):
        self.interval = restart_interval
        self.buf = bytearray()
        self.restarts = [0]
        self.counter = 0
        self.last_key = b""

    def add(self, key: bytes, value: bytes) -> None:
        shared = 0
        if self.counter < self.interval:
            limit = min(len(key), len(self.last_key))
            while shared < limit and key[shared] == self.last_key[shared]:
                shared += 1
        else:
            self.restarts.append(len(self.buf))
            self.counter = 0
        self.buf += _varint(shared) + _varint(len(key) - shared) + _varint(len(value)) + key[shared:] + value
        self.last_key = key
        self.counter += 1

    def estimated_size(self) -> int:
        return len(self.buf) + 4 * len(self.restarts) + 4

    def finish(self) -> bytes:
        return bytes(self.buf) + struct.pack(f"<{len(self.restarts) + 1}I", *self.restarts, len(self.restarts))


def _shortest_separator(start: bytes, limit: bytes) -> bytes:
    """A short key k with start <= k < limit (the index key of a full block), as LevelDB chooses it."""
    n = min(len(start), len(limit))
    i = 0
    while i < n and start[i] == limit[i]:
        i += 1
    if i < n and start[i] < 0xFF and start[i] + 1 < limit[i]:
        return start[:i] + bytes([start[i] + 1])
    return start


def _short_successor(key: bytes) -> bytes:
    for i, byte in enumerate(key):
        if byte != 0xFF:
            return key[:i] + bytes([byte + 1])
    return key


def _handle(offset: int, size: int) -> bytes:
    return _varint(offset) + _varint(size)


def build_table(items: List[Tuple[bytes, bytes]], block_size: int = BLOCK_SIZE) -> bytes:
    """A LevelDB table (no compression, no filter) of ``items``, which must be sorted by key."""
    out = bytearray()

    def write_block(builder: _BlockBuilder) -> bytes:
        contents = builder.finish()
        handle = _handle(len(out), len(contents))
        out.extend(contents + b"\x00" + struct.pack("<I", masked_crc32c(contents + b"\x00")))
        return handle

    index, block = _BlockBuilder(1), _BlockBuilder(RESTART_INTERVAL)
    pending: Optional[bytes] = None
    last = b""
    for key, value in items:
        if pending is not None:
            index.add(_shortest_separator(last, key), pending)
            pending = None
        block.add(key, value)
        last = key
        if block.estimated_size() >= block_size:
            pending, block = write_block(block), _BlockBuilder(RESTART_INTERVAL)
    if block.buf:
        pending = write_block(block)
    meta_handle = write_block(_BlockBuilder(RESTART_INTERVAL))
    if pending is not None:
        index.add(_short_successor(last), pending)
    index_handle = write_block(index)
    footer = (meta_handle + index_handle).ljust(40, b"\x00") + struct.pack("<Q", TABLE_MAGIC)
    return bytes(out + footer)


def _block_entries(block: bytes) -> Iterator[Tuple[bytes, bytes]]:
    restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * restarts
    if end < 0:
        raise ValueError("restart array larger than the block")
    pos, key = 0, b""
    while pos < end:
        shared, pos = _read_varint(block, pos)
        unshared, pos = _read_varint(block, pos)
        size, pos = _read_varint(block, pos)
        if shared > len(key) or pos + unshared + size > end:
            raise ValueError("entry runs past its block")
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        yield key, block[pos:pos + size]
        pos += size


def read_table(path) -> List[Tuple[bytes, bytes]]:
    """Every (key, value) of a LevelDB table file, checking the magic number and each block's crc."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < FOOTER_SIZE or struct.unpack_from("<Q", data, len(data) - 8)[0] != TABLE_MAGIC:
        raise InputError(path, "not a TensorFlow checkpoint index (no table magic number at the end)")

    def block_at(handle: bytes, pos: int = 0) -> bytes:
        offset, pos = _read_varint(handle, pos)
        size, _ = _read_varint(handle, pos)
        if offset + size + 5 > len(data):
            raise InputError(path, f"block at offset {offset} (size {size}) runs past the end of the file: truncated")
        contents, kind = data[offset:offset + size], data[offset + size]
        stored = struct.unpack_from("<I", data, offset + size + 1)[0]
        if masked_crc32c(data[offset:offset + size + 1]) != stored:
            raise InputError(path, f"block at offset {offset}: checksum mismatch, the file is corrupt")
        if kind != 0:
            raise InputError(path, f"block at offset {offset} is compressed (type {kind}); only uncompressed "
                                   "tables (what TensorFlow writes for checkpoints) are read")
        return contents

    try:
        footer = data[-FOOTER_SIZE:]
        _, pos = _read_varint(footer, 0)
        _, pos = _read_varint(footer, pos)  # the metaindex handle: no filter blocks to read
        items = []
        for _, handle in _block_entries(block_at(footer, pos)):
            items.extend(_block_entries(block_at(handle)))
    except (ValueError, IndexError, struct.error) as e:
        raise InputError(path, f"malformed table: {e}")
    return items


# ---- tensor bundle ------------------------------------------------------------------------------------------

def data_path(prefix: str, shard: int = 0, num_shards: int = 1) -> str:
    return f"{prefix}.data-{shard:05d}-of-{num_shards:05d}"


def _atomic_write(path: str, payload) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(payload)
    os.replace(tmp, path)


def write_checkpoint(prefix, tensors: Mapping[str, np.ndarray], block_size: int = BLOCK_SIZE) -> None:
    """``prefix.index`` and ``prefix.data-00000-of-00001`` holding ``tensors`` (data in the mapping's order,
    as ``SaveV2`` lays out its inputs). The index is written last, so an interrupted export leaves no
    readable checkpoint behind."""
    prefix = os.fspath(prefix)
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    entries, chunks, offset = [], [], 0
    for name, array in tensors.items():
        array = np.asarray(array)
        if array.dtype not in DTYPE_IDS:
            raise ValueError(f"{name}: dtype {array.dtype} has no writer here ({', '.join(map(str, DTYPE_IDS))})")
        raw = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
        entry = BundleEntry(DTYPE_IDS[array.dtype], tuple(array.shape), 0, offset, len(raw), masked_crc32c(raw))
        entries.append((name.encode("utf-8"), entry.encode()))
        chunks.append(raw)
        offset += len(raw)
    _atomic_write(data_path(prefix), b"".join(chunks))
    items = [(b"", _encode_header(1))] + sorted(entries)
    _atomic_write(f"{prefix}.index", build_table(items, block_size))


def write_checkpoint_state(folder, basename: str) -> None:
    """The ``checkpoint`` file that lets TensorFlow find ``folder/basename`` from the folder alone."""
    with open(os.path.join(os.fspath(folder), STATE_FILE), "w", encoding="utf-8") as f:
        f.write(f'model_checkpoint_path: "{basename}"\nall_model_checkpoint_paths: "{basename}"\n')


def resolve_prefix(path) -> str:
    """A checkpoint prefix from a prefix, its ``.index`` file, or a folder with a ``checkpoint`` file."""
    path = os.fspath(path)
    if os.path.isdir(path):
        state = os.path.join(path, STATE_FILE)
        if not os.path.isfile(state):
            raise InputError(path, f"folder without a '{STATE_FILE}' file: give the checkpoint prefix "
                                   "(e.g. bert_model.ckpt) instead")
        with open(state, encoding="utf-8") as f:
            found = re.search(r'^model_checkpoint_path:\s*"((?:[^"\\]|\\.)*)"', f.read(), re.M)
        if not found:
            raise InputError(state, "no model_checkpoint_path line", field="model_checkpoint_path")
        name = found.group(1)
        path = name if os.path.isabs(name) else os.path.join(path, name)
    elif path.endswith(".index"):
        path = path[:-len(".index")]
    if not os.path.isfile(f"{path}.index"):
        raise InputError(f"{path}.index", "TensorFlow checkpoint index not found")
    return path


class CheckpointReader:
    """The entries of a checkpoint and their tensors (read on demand, each checked against its crc)."""

    def __init__(self, path):
        self.prefix = resolve_prefix(path)
        self.index_path = f"{self.prefix}.index"
        items = read_table(self.index_path)
        if not items or items[0][0] != b"":
            raise InputError(self.index_path, "no bundle header (the empty key) in the index")
        try:
            header = _parse_message(items[0][1])
            self.entries: Dict[str, BundleEntry] = {k.decode("utf-8"): BundleEntry.decode(v) for k, v in items[1:]}
        except (ValueError, IndexError, struct.error, UnicodeDecodeError) as e:
            raise InputError(self.index_path, f"malformed bundle entry: {e}")
        self.num_shards = header.get(1, [1])[-1]
        if header.get(2, [0])[-1] != 0:
            raise InputError(self.index_path, "big-endian checkpoint: not supported", field="endianness")

    def names(self) -> List[str]:
        return list(self.entries)

    def tensor(self, name: str) -> np.ndarray:
        entry = self.entries[name]
        if entry.sliced:
            raise InputError(self.index_path, "partitioned variable (saved in slices): not supported", field=name)
        if entry.dtype not in DTYPES:
            raise InputError(self.index_path, f"DataType {entry.dtype} is not read here "
                                              f"(read: {sorted(DTYPES)})", field=name)
        path = data_path(self.prefix, entry.shard_id, self.num_shards)
        if not os.path.isfile(path):
            raise InputError(path, "checkpoint data file not found")
        with open(path, "rb") as f:
            f.seek(entry.offset)
            raw = f.read(entry.size)
        if len(raw) != entry.size:
            raise InputError(path, f"truncated: {name} needs bytes {entry.offset}..{entry.offset + entry.size}",
                             field=name)
        if masked_crc32c(raw) != entry.crc32c:
            raise InputError(path, "checksum mismatch, the file is corrupt", field=name)
        dtype = np.dtype(DTYPES[entry.dtype]).newbyteorder("<")
        count = int(np.prod(entry.shape, dtype=np.int64))
        if count * dtype.itemsize != entry.size:
            raise InputError(self.index_path, f"{entry.size} bytes for shape {entry.shape} of {dtype}", field=name)
        return np.frombuffer(raw, dtype=dtype).astype(dtype.newbyteorder("="), copy=True).reshape(entry.shape)


def read_checkpoint(path, skip=lambda name: False) -> Dict[str, np.ndarray]:
    """Every tensor of a checkpoint (except names ``skip`` accepts), in the index's (sorted) order."""
    reader = CheckpointReader(path)
    return {name: reader.tensor(name) for name in reader.names() if not skip(name)}
