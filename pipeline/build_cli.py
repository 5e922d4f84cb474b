"""REDESIGN-SHIM: moved to pipeline/commands/; removed at the merge."""

from pipeline.commands.build import build as build
from pipeline.commands.build import companion_hint as companion_hint
from pipeline.commands.build_report import RichProgress as RichProgress
from pipeline.commands.console import stderr as stderr
from pipeline.commands.console import stdout as stdout
from pipeline.commands.images import images as images
from pipeline.commands.images import lock as lock
