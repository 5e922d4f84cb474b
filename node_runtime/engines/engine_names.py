"""The engines' names (``init --engine``, ``--engine``), importable without any engine."""

from __future__ import annotations

STAGE_ENGINE_NAME = "stage"
ENGINE_NAMES = ("auto", "podman", "quadlet", STAGE_ENGINE_NAME)
