"""Canonical JSON lines shared by every reader of the floe test harness.

Each engine hands its result over as a pyarrow Table (Spark ``toArrow()``,
DuckDB ``.arrow()``, pyiceberg ``to_arrow()``); this module turns it into one
JSON line per row so that the outputs of different engines can be compared
line by line.

Line format: ``json.dumps(row, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)``; lines are sorted lexicographically (Python ``str``
order, i.e. by code point).

Values:
  null -> null, boolean -> true/false, int/long -> integer (exact),
  float/double -> JSON number via Python float (float32 widened exactly),
  NaN/+inf/-inf -> "NaN"/"Infinity"/"-Infinity",
  decimal(p,s) -> string with exactly s fraction digits ("12.50"),
  date -> "YYYY-MM-DD", time -> "HH:MM:SS.ffffff",
  timestamp -> "YYYY-MM-DDTHH:MM:SS.ffffff",
  timestamptz -> same, converted to UTC, followed by "Z",
  string -> string, uuid -> lowercase "8-4-4-4-12" string,
  binary/fixed -> lowercase hex string,
  struct -> object, list -> array,
  map -> array of [key, value] pairs sorted by the key's canonical JSON.
"""
from __future__ import annotations

import datetime as _dt
import decimal
import json
import math
import sys
import uuid
from typing import Any, Iterable

import pyarrow as pa

_UTC = _dt.timezone.utc
_DEC_CTX = decimal.Context(prec=80)


def dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _float(v: float) -> Any:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return float(v)


def _time(v: _dt.time) -> str:
    return v.strftime("%H:%M:%S.%f")


def _ts(v: _dt.datetime, tz: bool) -> str:
    if tz:
        if v.tzinfo is None:  # engine handed a naive value for a tz column: it is UTC
            v = v.replace(tzinfo=_UTC)
        v = v.astimezone(_UTC).replace(tzinfo=None)
        return v.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
    if v.tzinfo is not None:
        v = v.astimezone(_UTC).replace(tzinfo=None)
    return v.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _decimal(v: Any, scale: int | None) -> str:
    if not isinstance(v, decimal.Decimal):
        v = decimal.Decimal(str(v))
    if scale is not None:
        # Iceberg decimals have at most 38 digits; the default context has 28
        v = v.quantize(decimal.Decimal(1).scaleb(-scale), context=_DEC_CTX)
    return format(v, "f")


def _is_uuid_type(t: pa.DataType) -> bool:
    if isinstance(t, pa.ExtensionType):
        name = getattr(t, "extension_name", "")
        return name in ("arrow.uuid", "uuid")
    return False


def value(v: Any, t: pa.DataType | None = None) -> Any:
    """Canonical form of one value; ``t`` is its Arrow type when known."""
    if v is None:
        return None
    if t is not None and isinstance(t, pa.ExtensionType):
        if _is_uuid_type(t):
            if isinstance(v, (bytes, bytearray)):
                return str(uuid.UUID(bytes=bytes(v)))
            return str(uuid.UUID(str(v)))
        t = t.storage_type
    if t is not None:
        if pa.types.is_timestamp(t):
            return _ts(v, t.tz is not None)
        if pa.types.is_decimal(t):
            return _decimal(v, t.scale)
        if pa.types.is_struct(t):
            return {t.field(i).name: value(v.get(t.field(i).name), t.field(i).type)
                    for i in range(t.num_fields)}
        if pa.types.is_map(t):
            pairs = [[value(k, t.key_type), value(x, t.item_type)] for k, x in v]
            return sorted(pairs, key=lambda p: dumps(p[0]))
        if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
            return [value(x, t.value_type) for x in v]
    # type-driven fallback (also used for values without Arrow type info)
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return _float(v)
    if isinstance(v, decimal.Decimal):
        return _decimal(v, None)
    if isinstance(v, _dt.datetime):
        return _ts(v, v.tzinfo is not None)
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, _dt.time):
        return _time(v)
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    if isinstance(v, str):
        return v
    if isinstance(v, dict):
        return {str(k): value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [value(x) for x in v]
    raise TypeError(f"no canonical form for {type(v).__name__}: {v!r}")


def arrow_lines(table: pa.Table, overrides: dict[str, Any] | None = None) -> list[str]:
    """Sorted canonical JSON lines for an Arrow table.

    ``overrides`` maps a column name to a function applied to the raw Python
    value before canonicalisation (readers use it for engine quirks, e.g. a
    uuid column that an engine hands over as 16 raw bytes).
    """
    overrides = overrides or {}
    fields = list(table.schema)
    lines = []
    for row in table.to_pylist():
        obj = {}
        for f in fields:
            v = row[f.name]
            fn = overrides.get(f.name)
            obj[f.name] = fn(v) if fn is not None and v is not None else value(v, f.type)
        lines.append(dumps(obj))
    lines.sort()
    return lines


def rows_lines(columns: list[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    """Sorted canonical JSON lines for plain Python rows (no Arrow types)."""
    lines = [dumps({c: value(v) for c, v in zip(columns, r)}) for r in rows]
    lines.sort()
    return lines


def emit(header: str, lines: list[str], out=None) -> None:
    out = out or sys.stdout
    out.write(f"# {header}\n")
    for line in lines:
        out.write(line + "\n")
    out.flush()


# conversions a reader may need for engine quirks -------------------------

def uuid_from_any(v: Any) -> str:
    if isinstance(v, (bytes, bytearray)):
        return str(uuid.UUID(bytes=bytes(v)))
    return str(uuid.UUID(str(v)))


def hex_from_any(v: Any) -> str:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    if isinstance(v, uuid.UUID):
        return v.bytes.hex()
    return str(v)


def time_from_micros(v: Any) -> str:
    if isinstance(v, _dt.time):
        return _time(v)
    us = int(v)
    return _time((_dt.datetime.min + _dt.timedelta(microseconds=us)).time())
