"""RuleSet.evaluate_arrow: rule names for a whole Arrow table, stream or any `__arrow_c_stream__`
producer, equal to RuleSet.evaluate row by row, in every column form it accepts; its errors."""

import pathlib
import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

import alto

pa = pytest.importorskip("pyarrow")  # bindings/python/test.sh installs it

RULES = pathlib.Path(__file__).resolve().parents[3] / "examples" / "rules.toml"
NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)
N = 600


def _rows(n=N, seed=17):
    """Files the example rules tell apart: videos, renders, images, old projects, big files,
    POSIX and Windows paths; times in whole seconds, about one in six missing."""
    rnd = random.Random(seed)
    names = [
        "/media/a/clip{}.mov", "/media/keep/clip{}.mp4", "/media/b/clip{}.MXF.part",
        "/r/shot/render_v{}.exr", "/r/shot/render{}.txt", "/img/pic{}.PSD", "/img/pic{}.jpg",
        "C:\\Data\\p\\y2015\\doc{}.bin", "c:\\data\\x\\Y2016\\f{}.iso", "\\\\fs01\\share\\a\\y2015\\z{}",
        "/big/dump{}.tmp", "/big/dump{}.raw", "/misc/f{}",
    ]
    sizes = [0, 5, 2_000_000, 20_000_000, 200_000_000, 2_000_000_000, 5_000_000_000]

    def when():
        if rnd.random() < 1 / 6:
            return None
        return NOW - timedelta(days=rnd.randint(0, 6 * 365), seconds=rnd.randint(0, 86_399))

    return [
        (rnd.choice(names).format(i), rnd.choice(sizes), when(), when()) for i in range(n)
    ]


def _expected(rules, rows, now=NOW):
    return [rules.evaluate(p, s, modified=m, accessed=a, now=now) for p, s, m, a in rows]


def _midnight(t):
    return None if t is None else t.replace(hour=0, minute=0, second=0, microsecond=0)


def _strings(ts, z):
    """RFC 3339 text: `Z`, or an offset (the same instant), or a fraction; an empty string
    for every fifth missing time (empty is missing, as in an inventory)."""
    out = []
    for i, t in enumerate(ts):
        if t is None:
            out.append("" if i % 5 == 0 else None)
        elif z == "Z":
            out.append(t.strftime("%Y-%m-%dT%H:%M:%SZ"))
        elif z == "offset":
            out.append(t.astimezone(timezone(timedelta(hours=-7, minutes=-30))).isoformat())
        else:
            out.append(t.strftime("%Y-%m-%dT%H:%M:%S.000000Z"))
    return out


# Each time form: (the Arrow column of the times, the times the rules should see).
TIME_FORMS = {
    "timestamp[s]": lambda ts: (pa.array(ts, pa.timestamp("s")), ts),
    "timestamp[ms, tz=America/New_York]": lambda ts: (
        pa.array(ts, pa.timestamp("ms", tz="America/New_York")), ts),
    "timestamp[us, tz=UTC]": lambda ts: (pa.array(ts, pa.timestamp("us", tz="UTC")), ts),
    "timestamp[ns] (no tz: UTC)": lambda ts: (
        pa.array([None if t is None else t.replace(tzinfo=None) for t in ts], pa.timestamp("ns")), ts),
    "date32": lambda ts: (pa.array([None if t is None else t.date() for t in ts], pa.date32()),
                          [_midnight(t) for t in ts]),
    "string (RFC 3339, Z)": lambda ts: (pa.array(_strings(ts, "Z"), pa.string()), ts),
    "large_string (RFC 3339, offset)": lambda ts: (
        pa.array(_strings(ts, "offset"), pa.large_string()), ts),
    "string_view (RFC 3339, fraction)": lambda ts: (
        pa.array(_strings(ts, "fraction"), pa.string_view()), ts),
}


def _table(rows, time_form="timestamp[us, tz=UTC]", path_type=None, size_type=pa.uint64()):
    paths, sizes, modified, accessed = (list(c) for c in zip(*rows))
    m, m_seen = TIME_FORMS[time_form](modified)
    a, a_seen = TIME_FORMS[time_form](accessed)
    path = pa.array(paths, path_type or pa.string())
    table = pa.table({"file_path": path, "file_size": pa.array(sizes, size_type),
                      "last_modified": m, "last_accessed": a, "owner": ["x"] * len(rows)})
    return table, list(zip(paths, sizes, m_seen, a_seen))


@pytest.fixture(scope="module")
def rules():
    return alto.RuleSet.from_file(RULES)


@pytest.mark.parametrize("form", list(TIME_FORMS))
def test_every_time_form_gives_what_evaluate_gives(rules, form):
    table, seen = _table(_rows(), time_form=form)
    got = rules.evaluate_arrow(table, now=NOW)
    want = _expected(rules, seen)
    assert got.to_pylist() == want
    assert len({w for w in want}) >= 5, "the generated rows should hit most rules"


@pytest.mark.parametrize(
    "path_type", [pa.string(), pa.large_string(), pa.string_view(), pa.dictionary(pa.int8(), pa.string())],
    ids=str,
)
@pytest.mark.parametrize("size_type", [pa.int64(), pa.uint64()], ids=str)
def test_path_and_size_types(rules, path_type, size_type):
    table, seen = _table(_rows(200), path_type=path_type, size_type=size_type)
    assert rules.evaluate_arrow(table, now=NOW).to_pylist() == _expected(rules, seen)


def test_small_integer_sizes_and_no_time_columns(rules):
    t = pa.table({"file_size": pa.array([5, 7], pa.int16()),
                  "file_path": ["/a/clip.mov", "/b/f"]})
    # No times: no age condition holds, and nothing in the example rules matches without one.
    assert rules.evaluate_arrow(t, now=NOW).to_pylist() == [None, None]
    big = alto.RuleSet.from_toml('[[rule]]\nname = "any"\ntarget = "file:///t/"\n')
    assert big.evaluate_arrow(t, now=NOW).to_pylist() == ["any", "any"]


def test_the_result_is_one_dictionary_array_of_the_rule_names(rules):
    table, seen = _table(_rows(50))
    got = rules.evaluate_arrow(table, now=NOW)
    assert isinstance(got, pa.DictionaryArray)
    assert got.type == pa.dictionary(pa.int32(), pa.string())
    assert got.dictionary.to_pylist() == rules.names
    assert got.null_count == sum(w is None for w in _expected(rules, seen))


def test_a_record_batch_reader_of_several_batches(rules):
    table, seen = _table(_rows())
    batches = table.to_batches(max_chunksize=128)
    assert len(batches) > 3
    reader = pa.RecordBatchReader.from_batches(table.schema, batches)
    got = rules.evaluate_arrow(reader, now=NOW)
    assert isinstance(got, pa.DictionaryArray)  # one array, not a chunk per batch
    assert got.to_pylist() == _expected(rules, seen)


def test_a_chunked_table_gives_one_array(rules):
    table, seen = _table(_rows())
    chunked = pa.concat_tables([table.slice(0, 100), table.slice(100, 1), table.slice(101)])
    assert chunked.column("file_path").num_chunks == 3
    got = rules.evaluate_arrow(chunked, now=NOW)
    assert isinstance(got, pa.DictionaryArray)
    assert got.to_pylist() == _expected(rules, seen)


def test_threads_give_the_same_array(rules):
    table, seen = _table(_rows(2000))
    want = _expected(rules, seen)
    reader = lambda: pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=97))
    for threads in (1, 2, 5):
        assert rules.evaluate_arrow(reader(), now=NOW, threads=threads).to_pylist() == want
    with pytest.raises(alto.InvalidInputError, match="threads"):
        rules.evaluate_arrow(table, now=NOW, threads=0)


def test_the_first_bad_row_is_reported_whatever_the_threads(rules):
    # One chunk of 70,000 rows, cut into units of work that the threads share; two bad rows.
    n = 70_000
    paths = pa.array([None if i in (40_000, 66_000) else "/a/f" for i in range(n)])
    t = pa.table({"file_path": paths, "file_size": pa.array([1] * n, pa.int64())})
    assert t.column("file_path").num_chunks == 1
    for threads in (1, 3):
        with pytest.raises(alto.InvalidInputError, match="^row 40000: file_path is null$"):
            rules.evaluate_arrow(t, now=NOW, threads=threads)


class OnlyAStream:
    """Nothing but the Arrow PyCapsule stream protocol."""

    def __init__(self, table):
        self._table = table

    def __arrow_c_stream__(self, requested_schema=None):
        return self._table.__arrow_c_stream__(requested_schema)


def test_any_object_with_arrow_c_stream(rules):
    table, seen = _table(_rows(100))
    assert rules.evaluate_arrow(OnlyAStream(table), now=NOW).to_pylist() == _expected(rules, seen)


def test_pandas_and_polars_data_frames(rules):
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    table, seen = _table(_rows(100))
    want = _expected(rules, seen)
    frames = [pl.from_arrow(table), table.to_pandas()]
    for frame in frames:
        assert rules.evaluate_arrow(frame, now=NOW).to_pylist() == want, type(frame)
    assert isinstance(frames[1], pd.DataFrame)


def test_no_rows(rules):
    table, _ = _table(_rows(10))
    got = rules.evaluate_arrow(table.slice(0, 0), now=NOW)
    assert len(got) == 0 and got.type == pa.dictionary(pa.int32(), pa.string())
    empty = pa.RecordBatchReader.from_batches(table.schema, [])
    assert len(rules.evaluate_arrow(empty, now=NOW)) == 0


def test_now_defaults_to_the_current_time(rules):
    recent = datetime.now(timezone.utc) - timedelta(days=200)
    t = pa.table({"file_path": ["/v/clip.mov"], "file_size": [200_000_000],
                  "last_accessed": pa.array([recent], pa.timestamp("us", tz="UTC"))})
    assert rules.evaluate_arrow(t).to_pylist() == ["cold-video"]
    # Counted from an earlier `now`, the file is too young.
    assert rules.evaluate_arrow(t, now=recent + timedelta(days=10)).to_pylist() == [None]
    with pytest.raises(alto.InvalidInputError, match="now"):
        rules.evaluate_arrow(t, now=datetime(2025, 1, 1))


def _error(rules, data, *words):
    with pytest.raises(alto.InvalidInputError) as e:
        rules.evaluate_arrow(data, now=NOW)
    for w in words:
        assert w in str(e.value), (w, str(e.value))
    return e.value


def test_missing_and_mistyped_columns(rules):
    _error(rules, pa.table({"path": ["/a"], "file_size": [1]}), "file_path", "path")
    _error(rules, pa.table({"file_path": ["/a"]}), "file_size")
    _error(rules, pa.table({"file_path": [1], "file_size": [1]}), "file_path", "Int64")
    _error(rules, pa.table({"file_path": ["/a"], "file_size": ["1"]}), "file_size", "Utf8")
    _error(rules, pa.table({"file_path": ["/a"], "file_size": [1.0]}), "file_size", "Float64")
    _error(rules, pa.table({"file_path": ["/a"], "file_size": [1], "last_modified": [1.5]}),
           "last_modified", "Float64")
    # Checked from the schema: a stream without rows is refused alike.
    _error(rules, pa.table({"file_path": pa.array([], pa.int32()), "file_size": pa.array([], pa.int64())}),
           "file_path")


def test_bad_values_name_the_column_and_row(rules):
    paths = ["/a", "/b", "/c", None, "/e"]
    _error(rules, pa.table({"file_path": paths, "file_size": [1] * 5}), "row 3", "file_path", "null")
    _error(rules, pa.table({"file_path": ["/a", "/b"], "file_size": [1, None]}), "row 1", "file_size")
    _error(rules, pa.table({"file_path": ["/a", "/b"], "file_size": [1, -4]}), "row 1", "file_size", "-4")
    _error(rules, pa.table({"file_path": ["/a", "/b"], "file_size": [1, 2],
                            "last_accessed": ["2024-01-01T00:00:00Z", "yesterday"]}),
           "row 1", "last_accessed", "yesterday")
    # Rows count across batches.
    t = pa.table({"file_path": ["/a", "/b", "/c", None], "file_size": [1] * 4})
    reader = pa.RecordBatchReader.from_batches(t.schema, t.to_batches(max_chunksize=2))
    _error(rules, reader, "row 3", "file_path")


def test_not_arrow_data(rules):
    e = _error(rules, [{"file_path": "/a", "file_size": 1}], "__arrow_c_stream__", "list")
    assert isinstance(e, alto.AltoError)


def test_import_alto_does_not_import_pyarrow():
    code = "import sys, alto; assert 'pyarrow' not in sys.modules, 'pyarrow imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
