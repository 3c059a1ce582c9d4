"""Shell completion: `northstar completion bash|zsh|fish` prints the script a
shell loads, and the arguments complete what they take: rule codes and
names, spec files and folders, product ids.

Completion runs the CLI on every TAB (click's protocol, through the
_NORTHSTAR_COMPLETE variable the script sets), so what is offered is read
cheaply: rule codes from the registry, product ids from a quick read of the
project's spec files, never the whole validation.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from click.shell_completion import CompletionItem, get_completion_class

SHELLS = ("bash", "zsh", "fish")
VARIABLE = "_NORTHSTAR_COMPLETE"
SPEC_SUFFIXES = (".yaml", ".yml")


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion_command(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for SHELL.

    It completes commands, options, rule codes and names (`northstar rules
    <TAB>`), spec files and folders, and product ids (`northstar tree <TAB>`).

    \b
    bash:  eval "$(northstar completion bash)"         (in ~/.bashrc)
    zsh:   eval "$(northstar completion zsh)"          (in ~/.zshrc)
    fish:  northstar completion fish > ~/.config/fish/completions/northstar.fish
    """
    root = ctx.find_root().command
    script = get_completion_class(shell)(root, {}, "northstar", VARIABLE)  # type: ignore[misc]
    click.echo(script.source())


def rule_codes(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Rule codes (with what each checks) and names, for `northstar rules`."""
    from northstar_spec.spec.registry import ALL_RULES

    wanted = incomplete.lower()
    items = [CompletionItem(r.code, help=r.summary) for r in ALL_RULES if r.code.lower().startswith(wanted)]
    return items + [CompletionItem(r.name, help=r.code) for r in ALL_RULES if r.name.startswith(wanted)]


def spec_paths(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Folders and YAML files under what has been typed so far."""
    typed = Path(incomplete or ".")
    folder, prefix = (typed, "") if incomplete.endswith(os.sep) or not incomplete else (typed.parent, typed.name)
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    items = []
    for entry in entries:
        if not entry.name.startswith(prefix) or (entry.name.startswith(".") and not prefix.startswith(".")):
            continue
        shown = entry.name if folder == Path(".") and not incomplete.startswith("." + os.sep) else str(entry)
        if entry.is_dir():
            items.append(CompletionItem(shown + os.sep, type="plain"))
        elif entry.suffix in SPEC_SUFFIXES:
            items.append(CompletionItem(shown, type="plain"))
    return items


def product_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The product ids of the project's specs (northstar.yaml's `specs:` folders)."""
    import yaml

    from northstar_spec.spec.pipeline import PROJECT_FILE, find_project_file

    project_file = ctx.params.get("project_file") or find_project_file(Path.cwd())
    if project_file is None:
        return []
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    items = []
    try:
        project = yaml.load(Path(project_file).read_text(encoding="utf-8"), Loader=loader) or {}
        folders = project.get("specs", ["specs"]) if isinstance(project, dict) else []
        for folder in folders:
            for file in sorted((Path(project_file).parent / str(folder)).rglob("*")):
                if file.suffix not in SPEC_SUFFIXES or file.name == PROJECT_FILE:
                    continue
                spec = yaml.load(file.read_text(encoding="utf-8"), Loader=loader)
                product = spec.get("product") if isinstance(spec, dict) else None
                if isinstance(product, dict) and str(product.get("id", "")).startswith(incomplete):
                    items.append(CompletionItem(str(product["id"]), help=str(product.get("name", ""))))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):  # a broken file: offer what could be read
        pass
    return items


def specs_or_products(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    return product_ids(ctx, param, incomplete) + spec_paths(ctx, param, incomplete)
