"""What every Python client program shares: the connection settings the
runner passes, one line per check (`ok name` / `FAIL name: why`), and the
values each type must come back as."""

import datetime
import decimal
import json
import os
import resource
import sys
import traceback
import uuid

HOST = os.environ.get("PGHOST", "127.0.0.1")
PORT = int(os.environ.get("PGPORT", "5432"))
USER = os.environ.get("PGUSER", "postgres")
PASSWORD = os.environ.get("PGPASSWORD", "")
DB = os.environ.get("PGDATABASE", "postgres")
MD5_USER = os.environ.get("CLIENT_MD5_USER", "")
MD5_PASSWORD = os.environ.get("CLIENT_MD5_PASSWORD", "")
ROOTCERT = os.environ.get("CLIENT_SSLROOTCERT", "")
TARGET = os.environ.get("CLIENT_TARGET", "")

STREAM_ROWS = 1_000_000

failures = 0


def check(fn):
    """Runs one check now; a check passes when it returns without raising."""
    global failures
    name = fn.__name__
    try:
        fn()
        print(f"ok {name}", flush=True)
    except Exception as e:  # noqa: BLE001 - any failure is reported
        failures += 1
        msg = f"{type(e).__name__}: {e}".replace("\n", " | ")
        print(f"FAIL {name}: {msg[:400]}", flush=True)
        traceback.print_exc(file=sys.stderr)
    return fn


def finish():
    sys.exit(1 if failures else 0)


def eq(got, want, what=""):
    if got != want:
        raise AssertionError(f"{what} got {got!r}, want {want!r}")


def max_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# (SQL type, SQL literal, the Python value every Python driver returns)
TYPES = [
    ("boolean", "true", True),
    ("smallint", "-32768", -32768),
    ("integer", "2147483647", 2147483647),
    ("bigint", "-9223372036854775808", -9223372036854775808),
    ("real", "1.5", 1.5),
    ("double precision", "-2.25e100", -2.25e100),
    ("numeric", "12345678901234567890.000123", decimal.Decimal("12345678901234567890.000123")),
    ("numeric(10,2)", "-3.10", decimal.Decimal("-3.10")),
    ("text", "'héllo ''world'''", "héllo 'world'"),
    ("varchar(10)", "'short'", "short"),
    ("char(5)", "'ab'", "ab   "),
    ("bytea", "'\\x00ff10'", b"\x00\xff\x10"),
    ("date", "'2024-02-29'", datetime.date(2024, 2, 29)),
    ("time", "'13:45:06.789'", datetime.time(13, 45, 6, 789000)),
    ("timestamp", "'2001-02-03 04:05:06.123456'", datetime.datetime(2001, 2, 3, 4, 5, 6, 123456)),
    ("timestamptz", "'2001-02-03 04:05:06+00'",
     datetime.datetime(2001, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc)),
    ("interval", "'1 day 02:03:04'", datetime.timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ("uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
     uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")),
    ("jsonb", "'{\"a\": [1, 2, null], \"b\": \"x\"}'", {"a": [1, 2, None], "b": "x"}),
    ("json", "'[1, \"two\", {\"three\": 3}]'", [1, "two", {"three": 3}]),
    ("integer[]", "'{1,2,3}'", [1, 2, 3]),
    ("text[]", "'{a,\"b c\",NULL}'", ["a", "b c", None]),
]


def as_json(v):
    return json.loads(v) if isinstance(v, str) else v
