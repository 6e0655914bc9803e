import io

from common.exporting import csv_write, json_array_write, progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_draws_on_a_terminal_and_nothing_in_a_pipe():
    pipe, terminal = io.StringIO(), Terminal()
    with progress(total=3, description="users", stream=pipe) as wrap:
        assert list(wrap(iter([1, 2, 3]))) == [1, 2, 3]
    assert pipe.getvalue() == ""
    with progress(total=3, description="users", stream=terminal) as wrap:
        assert list(wrap(iter([1, 2, 3]))) == [1, 2, 3]
    assert "users" in terminal.getvalue() and "3/3" in terminal.getvalue()


def test_json_and_csv_writers_take_any_iterator():
    out = io.StringIO()
    assert json_array_write((row for row in [{"a": 1}, {"a": [2, 3]}]), out=out) == 2
    assert out.getvalue() == '[\n{"a": 1},\n{"a": [2, 3]}\n]\n'
    out = io.StringIO()
    assert csv_write(iter([{"a": [1, 2], "b": None}]), fields=["a", "b"], out=out) == 1
    assert out.getvalue() == "a,b\r\n1|2,\r\n"
