"""A refused form, shown again: each refused field's French message under the field, and
what the user typed. One shape for every page's forms.

A page with several forms names the one refused (``Forms.name``): the others show clean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from api.errors import describe

Model = TypeVar("Model", bound=BaseModel)

#: The key of a refusal about the whole form rather than one field (shown above the form).
GENERAL = "_"


@dataclass
class Forms:
    """What a re-shown form carries: each refused field's message, the values posted, and
    the status of the answer that shows it again (422, or 413/415 for a refused file)."""

    name: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    status: int = 422

    def error(self, form: str, name: str) -> str:
        """The message under field ``name`` of ``form``, if that form was refused."""
        return self.errors.get(name, "") if form == self.name else ""

    def value(self, form: str, name: str, default: Any = "") -> Any:
        """What the user typed in ``name`` of ``form``, to show it again."""
        return self.values.get(name, default) if form == self.name else default


class FormRefused(Exception):
    """A form's fields were refused: the page is shown again with the errors."""

    def __init__(self, forms: Forms) -> None:
        super().__init__(forms.name)
        self.forms = forms


def field_errors(error: ValidationError, *, general: str = GENERAL) -> dict[str, str]:
    """Pydantic's errors as a form's: the first French message for each field, under the
    field's own name (the first part of its location; a project's facts are asked one by
    one, so ``attributes.<fact>`` goes under ``<fact>``); an error about the whole model
    under ``general``."""
    errors: dict[str, str] = {}
    for problem in error.errors():
        location = problem.get("loc") or ()
        if len(location) > 1 and location[0] == "attributes":
            name = str(location[1])
        elif location:
            name = str(location[0])
        else:
            name = general
        errors.setdefault(name, describe(problem)["message"])
    return errors


def validated(
    form_name: str, model: type[Model], data: dict[str, Any], *, general: str = GENERAL
) -> Model:
    """``data`` checked by the API's own input model, or :class:`FormRefused`."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise FormRefused(Forms(form_name, field_errors(error, general=general), data)) from None
