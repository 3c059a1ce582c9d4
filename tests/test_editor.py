"""The editor: what a real yaml-language-server (npm, installed by `make
tools`) offers in a spec and in northstar.yaml, driven over stdio as VS Code
and other editors drive it (tests/lsp.py).

Snippets insert whole list items (an input, a counter-metric, a review
ritual, a history entry) rather than an example object printed as text;
hover names the node under the cursor; `rules:` in northstar.yaml offers
every rule code and name.
"""

from __future__ import annotations

import shutil

import pytest
import yaml
from helpers import ROOT
from lsp import LanguageServer

from northstar_spec.spec.registry import ALL_RULES

SERVER = ROOT / "tests" / "tools" / "node_modules" / ".bin" / "yaml-language-server"
SPEC_HEAD = "# yaml-language-server: $schema=schemas/northstar.schema.json\napiVersion: northstar/v1\nkind: NorthStar\n"


@pytest.fixture(scope="module")
def editor(tmp_path_factory):
    if not SERVER.exists():
        pytest.fail("yaml-language-server is not installed: run `make tools`")
    folder = tmp_path_factory.mktemp("editor")
    shutil.copytree(ROOT / "schemas", folder / "schemas")
    server = LanguageServer([str(SERVER), "--stdio"], folder)
    yield server, folder
    assert server.close() == 0


def _open(editor, name: str, text: str) -> str:
    server, folder = editor
    (folder / name).write_text(text)
    return server.open(folder / name, text)


def _snippets(items: list[dict]) -> dict[str, str]:
    return {item["label"]: item.get("insertText", "") for item in items}


@pytest.mark.parametrize(
    ("key", "label", "first_key"),
    [
        ("inputs", "input metric", "id: ${1:input_id}"),
        ("counter_metrics", "counter-metric", "id: ${1:counter_metric_id}"),
        ("history", "history entry", "north_star: ${1:earlier_north_star_id}"),
    ],
)
def test_a_new_list_item_is_a_snippet(editor, key, label, first_key):
    server, _ = editor
    uri = _open(editor, f"{key}.yaml", SPEC_HEAD + f"{key}:\n  - \n")
    snippets = _snippets(server.completion(uri, 4, 4))
    assert first_key in snippets[label], snippets
    assert "[object Object]" not in "".join(snippets.values())
    # The inserted text (after the `- ` typed), its placeholders at their defaults, is one list item.
    plain = snippets[label].replace("^", "")
    for marker in ("${", "|}"):
        while marker in plain:
            plain = _fill(plain)
    (item,) = yaml.safe_load("- " + plain)
    assert isinstance(item, dict) and item["owner" if key != "history" else "reason"]


def _fill(text: str) -> str:
    """One snippet placeholder replaced by its default: ${1:x} -> x, ${1|a,b|} -> a."""
    start = text.index("${")
    end = text.index("}", start)
    inner = text[start + 2 : end]
    value = inner.split(":", 1)[1] if ":" in inner else inner.split("|")[1].split(",")[0]
    return text[:start] + value + text[end + 1 :]


def test_the_value_of_inputs_is_a_list_not_an_object_as_text(editor):
    server, _ = editor
    uri = _open(editor, "inputs-value.yaml", SPEC_HEAD + "inputs: \n")
    items = server.completion(uri, 3, 8)
    assert [(item["label"], item["insertText"].split("\n")[:3]) for item in items] == [
        ("input metric list", ["", "  - id: ${1:input_id}", "    name: ${2:Input name}"])
    ]


def test_a_review_ritual_is_a_snippet(editor):
    server, _ = editor
    uri = _open(editor, "review.yaml", SPEC_HEAD + "review:\n  north_star:\n    \n")
    snippets = _snippets(server.completion(uri, 5, 4))
    assert "cadence: ${1|weekly,biweekly,monthly,quarterly,semiannually,annually|}" in snippets["review ritual"]


@pytest.mark.parametrize(
    ("text", "line", "character", "title"),
    [
        ("north_star:\n  grain: week\n", 4, 4, "North Star: grain"),
        ("inputs:\n  - owner: growth\n", 4, 6, "Input: owner"),
        ("review:\n  revalidation:\n    cadence: annually\n", 5, 6, "Cadence"),
        ("product:\n  value_moment: A team finishes a project.\n", 4, 4, "Value moment"),
    ],
)
def test_hover_names_the_node_not_the_whole_spec(editor, text, line, character, title):
    server, _ = editor
    uri = _open(editor, f"hover-{title.replace(' ', '-').replace(':', '')}.yaml", SPEC_HEAD + text)
    shown = server.hover(uri, line, character)
    assert shown.startswith(f"#### {title}"), shown
    assert "northstar spec (northstar/v1" not in shown


def test_rules_in_the_project_file_offers_codes_and_names(editor):
    server, _ = editor
    head = "# yaml-language-server: $schema=schemas/project.schema.json\napiVersion: northstar/v1\nkind: Project\n"
    uri = _open(editor, "northstar.yaml", head + "rules:\n  \n")
    labels = {item["label"] for item in server.completion(uri, 4, 2)}
    assert {r.code for r in ALL_RULES} <= labels and {r.name for r in ALL_RULES} <= labels
    uri = _open(editor, "northstar-hover.yaml", head + "rules:\n  NS402: warning\n")
    assert "Every owner names a team declared in northstar.yaml." in server.hover(uri, 4, 3)
