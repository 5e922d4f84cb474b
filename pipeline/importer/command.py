"""REDESIGN-SHIM: moved to pipeline/commands/; removed at the merge."""

from pipeline.commands.console import stderr as stderr
from pipeline.commands.console import stdout as stdout
from pipeline.commands.import_apps import STATUS_STYLE as STATUS_STYLE
from pipeline.commands.import_apps import import_group as import_group
