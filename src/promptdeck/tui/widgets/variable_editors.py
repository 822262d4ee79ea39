"""The Compare screen's variable editors: one field per variable, sized to its content.

Each variable of the picked prompt gets a caption (its name, ``*`` when required,
its description, default and allowed values: one line, whole and wrapped while its
field has the focus), a field and a line for its error:

- a select for a variable with ``enum`` (its default picked),
- a one-line input for a number, an integer, a boolean or a short string
  (``max_length`` up to :data:`SHORT_TEXT`),
- otherwise a text area that grows with its text (soft-wrapped, up to a few lines).

Every change is checked by the engine's own rules
(:func:`~promptdeck.rendering.variables.check_variable`), so a value the run would
refuse is said under its field as it is typed. Every field's id is ``var-<name>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from textual import events, on
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Select, Static, TextArea

from promptdeck.rendering.templates import VariableError, VariableRules
from promptdeck.rendering.variables import check_variable

if TYPE_CHECKING:
    from promptdeck.core.prompts.files import VariableSpec

__all__ = ["SHORT_TEXT", "VariableEditors", "caption", "field_value"]

SHORT_TEXT = 80
"""A string variable whose ``max_length`` is at most this is edited on one line."""


def caption(name: str, spec: VariableSpec) -> str:
    """The line above a variable's field: ``name* — description · default 3 · one of a, b``."""
    parts = [f"{name}{'*' if spec.required and spec.default is None else ''}"]
    details = []
    if spec.description:
        details.append(spec.description)
    if spec.default is not None:
        details.append(f"default {spec.default}")
    if spec.enum:
        details.append("one of " + ", ".join(map(str, spec.enum)))
    if spec.max_length is not None:
        details.append(f"≤ {spec.max_length} chars")
    return " — ".join([parts[0], " · ".join(details)]) if details else parts[0]


def _field(name: str, spec: VariableSpec, compact: bool) -> Widget:
    ident = f"var-{name}"
    if spec.enum:
        options = [(str(v), str(v)) for v in spec.enum]
        default = str(spec.default) if spec.default is not None else Select.NULL
        return Select(
            options, prompt=name, value=default, id=ident, classes="var-field", compact=compact
        )
    short = spec.max_length is not None and spec.max_length <= SHORT_TEXT
    if spec.type in ("integer", "number", "boolean") or short:
        kind = {"integer": "integer", "number": "number"}.get(spec.type or "", "text")
        return Input(
            placeholder=f"{name} (default {spec.default})" if spec.default is not None else name,
            type=kind,  # type: ignore[arg-type]
            id=ident,
            classes="var-field",
            compact=compact,
        )
    return TextArea(
        placeholder=name, id=ident, classes="var-field var-long", compact=compact, soft_wrap=True
    )


def field_value(field: Widget) -> str:
    """The text a variable's field holds ("" when blank or nothing picked)."""
    if isinstance(field, Input):
        return field.value
    if isinstance(field, TextArea):
        return field.text
    if isinstance(field, Select):
        return field.value if isinstance(field.value, str) else ""
    return ""


class VariableEditors(Horizontal):
    """One captioned field per variable of the picked prompt, checked as it is typed."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.prompt = ""
        self.specs: dict[str, VariableSpec] = {}

    async def ask_for(
        self, prompt: str, specs: Mapping[str, VariableSpec] | None, *, compact: bool
    ) -> None:
        """Replace the fields with one per variable (None: no prompt picked, no fields).

        ``specs`` names only fields that are mounted: while the old fields go and the
        new ones mount, a reader (the screen's focus on resume, a run) sees none.
        """
        self.specs = {}
        await self.remove_children()
        wanted = dict(specs or {})
        boxes = []
        for name, spec in wanted.items():
            field = _field(name, spec, compact)
            box = Vertical(
                Static(caption(name, spec), classes="var-caption", markup=False),
                field,
                Static("", id=f"var-error-{name}", classes="var-error", markup=False),
                classes="var-box" + (" -long" if isinstance(field, TextArea) else ""),
            )
            boxes.append(box)
        await self.mount_all(boxes)
        self.prompt, self.specs = prompt, wanted

    def fields(self) -> dict[str, Widget]:
        """Each variable's field, by name (those in the DOM: none while they are replaced)."""
        found: dict[str, Widget] = {}
        for name in self.specs:
            field = self.query(f"#var-{name}")
            if field:
                found[name] = field.first()
        return found

    def fill(self, values: Mapping[str, Any]) -> None:
        """Put these values in the fields of the variables they name."""
        for name, field in self.fields().items():
            if name not in values:
                continue
            text = str(values[name])
            if isinstance(field, Input):
                field.value = text
            elif isinstance(field, TextArea):
                field.load_text(text)
            elif isinstance(field, Select) and text in map(str, self.specs[name].enum or ()):
                field.value = text

    def first_empty(self) -> Widget | None:
        """The first text field still empty, if any."""
        return next(
            (f for f in self.fields().values() if not isinstance(f, Select) and not field_value(f)),
            None,
        )

    def values(self) -> dict[str, str]:
        """The filled-in variables; blank fields are left out (their defaults apply)."""
        return {name: v for name, f in self.fields().items() if (v := field_value(f))}

    def error_of(self, name: str) -> str | None:
        """What is wrong with the variable's value as typed (None: nothing, or blank)."""
        spec = self.specs[name]
        value = field_value(self.query_one(f"#var-{name}"))
        if not value:
            return None
        rules = VariableRules.from_dict(spec.model_dump())
        try:
            check_variable(self.prompt, name, value, rules)
        except VariableError as exc:
            return exc.title.removeprefix(f"prompt {self.prompt!r}: ")
        return None

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """The variable being edited shows its whole caption (class ``-editing``)."""
        self._editing(event.widget, True)

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        """Back to one line of caption."""
        self._editing(event.widget, False)

    def _editing(self, field: Widget, editing: bool) -> None:
        box = field.parent
        while box is not None and box is not self:
            if isinstance(box, Widget) and box.has_class("var-box"):
                box.set_class(editing, "-editing")
                return
            box = box.parent

    @on(Input.Changed, ".var-field")
    @on(TextArea.Changed, ".var-field")
    @on(Select.Changed, ".var-field")
    def _check(self, event: Input.Changed | TextArea.Changed | Select.Changed) -> None:
        name = (event.control.id or "").removeprefix("var-") if event.control else ""
        if name not in self.specs:
            return
        error = self.error_of(name)
        line = self.query_one(f"#var-error-{name}", Static)
        line.update(error or "")
        line.set_class(bool(error), "-shown")
