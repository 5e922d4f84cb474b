"""How every state file is read and written: a pydantic model, as sorted, indented JSON.

A read of a missing file gives None; a file that does not parse or does not fit
its model is a :class:`StateError` naming the file and the field.  A write goes
through ``atomic_file.write_file_atomically`` (temporary file, fsync, rename,
fsync of the directory), so a crash leaves the old file or the new one.
:func:`save_model_if_changed` writes nothing when the bytes would be the same
(a noop apply writes nothing).

The models allow fields they do not know and keep them when written back: a node
rolled back to an older binary must still read the state a newer one wrote.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from node_runtime.store.atomic_file import write_file_atomically
from node_runtime.store.paths import StateError

STATE_SCHEMA_VERSION: Literal[1] = 1


class StateModel(BaseModel):
    # "allow": fields a newer binary wrote survive a read and write by this one.
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


Model = TypeVar("Model", bound=StateModel)


def dump_model(model: StateModel) -> bytes:
    text = json.dumps(model.model_dump(mode="json", by_alias=True), indent=2, sort_keys=True)
    return (text + "\n").encode()


def load_model(path: Path, model: type[Model]) -> Model | None:
    """The model in ``path``; None when the file does not exist."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StateError(f"{path}: cannot read ({error.strerror})") from None
    try:
        return model.model_validate_json(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise StateError(
            f"{path}: {where}: {first['msg']}; restore the file from a backup or remove it"
        ) from None


def save_model(path: Path, model: StateModel) -> None:
    try:
        write_file_atomically(path, dump_model(model))
    except OSError as error:
        raise StateError(f"{path}: cannot write ({error.strerror})") from None


def save_model_if_changed(path: Path, model: StateModel) -> bool:
    """Write ``model`` unless the file already holds exactly these bytes; True if written."""
    data = dump_model(model)
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    except OSError as error:
        raise StateError(f"{path}: cannot read ({error.strerror})") from None
    try:
        write_file_atomically(path, data)
    except OSError as error:
        raise StateError(f"{path}: cannot write ({error.strerror})") from None
    return True
