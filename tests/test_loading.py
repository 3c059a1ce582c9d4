"""The loader: positions of every node, and refusal of what a spec must never contain."""

from __future__ import annotations

from pathlib import Path

from northstar_spec.spec.loading import MAX_FILE_BYTES, load, parse


def codes(diagnostics):
    return [(d.code, d.location.line, d.location.col) for d in diagnostics]


def test_values_and_keys_remember_line_and_column():
    doc, problems = parse("a:\n  b: [1, {c: x}]\n  d: text\n", "f.yaml")
    assert problems == []
    assert doc.locate(("a", "b", 1, "c")).line == 2 and doc.locate(("a", "b", 1, "c")).col == 14
    assert (doc.locate(("a", "d")).line, doc.locate(("a", "d")).col) == (3, 6)
    assert (doc.locate(("a", "d"), key=True).line, doc.locate(("a", "d"), key=True).col) == (3, 3)


def test_a_missing_path_points_at_its_nearest_ancestor_key():
    doc, _ = parse("a:\n  b: 1\n", "f.yaml")
    where = doc.locate(("a", "missing", "deeper"))
    assert (where.line, where.col) == (1, 1)


def test_dates_stay_text_as_json_schema_and_editors_see_them():
    doc, _ = parse("last: 2026-11-02\n", "f.yaml")
    assert doc.data == {"last": "2026-11-02"}


def test_duplicate_key_points_at_the_second_and_names_the_first():
    _, problems = parse("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert codes(problems) == [("NS002", 3, 1)]
    assert "line 1" in problems[0].message and problems[0].related[0].line == 1


def test_alias_bomb_is_refused_quickly():
    bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
    for name, prev in zip("bcdefgh", "abcdefg"):
        bomb += f"{name}: &{name} [{','.join(['*' + prev] * 10)}]\n"
    _, problems = parse(bomb, "f.yaml")
    assert [p.code for p in problems] == ["NS003"]


def test_recursive_alias_is_refused():
    _, problems = parse("a: &a [*a, *a]\n", "f.yaml")
    assert [p.code for p in problems] == ["NS003"]


def test_absurd_nesting_is_a_finding_not_a_crash():
    _, problems = parse("a: " + "[" * 50_000 + "]" * 50_000 + "\n", "f.yaml")
    assert [p.code for p in problems] in (["NS003"], ["NS001"])


def test_python_tags_are_refused_and_never_constructed():
    _, problems = parse("a: !!python/object/apply:os.system ['true']\n", "f.yaml")
    assert [p.code for p in problems] == ["NS001"]


def test_custom_tags_are_reported():
    _, problems = parse("a: !secret value\n", "f.yaml")
    assert codes(problems) == [("NS001", 1, 4)]


def test_invalid_utf8_is_located_at_the_bad_byte():
    doc, problems = parse(b"a: 1\nname: Caf\xe9\n", "f.yaml")
    assert doc is None and codes(problems) == [("NS004", 2, 10)]


def test_binary_content_is_refused():
    _, problems = parse(b"\x89PNG\r\n\x1a\n\x00\x00", "f.yaml")
    assert [p.code for p in problems] == ["NS004"]


def test_byte_order_mark_is_accepted():
    doc, problems = parse("\ufeffa: 1\n".encode(), "f.yaml")
    assert problems == [] and doc.data == {"a": 1}


def test_oversized_file_is_refused_without_reading_it(tmp_path: Path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    doc, problems = load(big)
    assert doc is None and [p.code for p in problems] == ["NS005"]


def test_unreadable_file_is_a_finding(tmp_path: Path):
    doc, problems = load(tmp_path / "gone.yaml", "gone.yaml")
    assert doc is None and codes(problems) == [("NS007", 1, 1)]


def test_empty_and_non_mapping_documents():
    assert [p.code for p in parse("# only a comment\n", "f.yaml")[1]] == ["NS006"]
    assert codes(parse("- a\n- b\n", "f.yaml")[1]) == [("NS006", 1, 1)]


def test_several_documents_in_one_file_are_a_syntax_error():
    _, problems = parse("a: 1\n---\nb: 2\n", "f.yaml")
    assert codes(problems) == [("NS001", 2, 1)]


def test_only_true_and_false_are_booleans():
    doc, _ = parse("a: off\nb: no\nc: yes\nd: true\ne: False\n", "f.yaml")
    assert doc.data == {"a": "off", "b": "no", "c": "yes", "d": True, "e": False}


def test_control_characters_are_located():
    _, problems = parse("a: 1\nb: x\x01y\n", "f.yaml")
    assert codes(problems) == [("NS001", 2, 5)]
