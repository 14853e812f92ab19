"""The command's one output helper: marks are rich markup, messages are printed literally.

Text that comes from an API, a validator or a file (``String should match pattern '^[a-z]{1,63}$'``) is escaped
once here, so rich never takes its brackets for markup.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

console = Console()


def failed(message: object) -> None:
    console.print(f"[bold red]✗[/] {escape(str(message))}", highlight=False)


def succeeded(message: object) -> None:
    console.print(f"[green]✓[/] {escape(str(message))}", highlight=False)


def plain(message: object) -> None:
    console.print(str(message), markup=False, highlight=False)
