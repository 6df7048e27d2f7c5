"""A small question under the toolbar: a title, text fields, and OK/Cancel buttons.

The table's actions use it to ask a branch name, to confirm a removal and as the params
editor of "Queue a copy". The answer goes to ``on_ok`` as ``{field name: text}``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ipywidgets

__all__ = ["Field", "Prompt"]


@dataclass(frozen=True)
class Field:
    """A text field of a prompt: its name, first value and a hint shown while empty."""

    name: str
    value: str = ""
    placeholder: str = ""


class Prompt(ipywidgets.VBox):
    """``title``, a :class:`ipywidgets.Text` per field, then ``ok_label`` and Cancel.

    ``fields`` maps each field name to its Text; ``ok`` and ``cancel`` are the buttons.
    """

    def __init__(
        self,
        title: str,
        ok_label: str,
        on_ok: Callable[[dict[str, str]], None],
        on_cancel: Callable[[], None],
        fields: Sequence[Field] = (),
        *,
        danger: bool = False,
    ) -> None:
        self.fields = {
            field.name: ipywidgets.Text(
                value=field.value,
                placeholder=field.placeholder,
                description=field.name,
                description_allow_html=False,
                style={"description_width": "initial"},
                layout=ipywidgets.Layout(width="420px"),
            )
            for field in fields
        }
        self.ok = ipywidgets.Button(
            description=ok_label, button_style="danger" if danger else "primary"
        )
        self.cancel = ipywidgets.Button(description="Cancel")
        self.ok.on_click(lambda _button: on_ok(self.answers()))
        self.cancel.on_click(lambda _button: on_cancel())
        super().__init__(
            [
                ipywidgets.HTML(f"<b>{_escape(title)}</b>"),
                *self.fields.values(),
                ipywidgets.HBox([self.ok, self.cancel]),
            ]
        )
        self.add_class("jupyter-exp-prompt")

    def answers(self) -> dict[str, str]:
        """What each field holds now, stripped."""
        return {name: text.value.strip() for name, text in self.fields.items()}


def _escape(text: str) -> str:
    import html

    return html.escape(text)
