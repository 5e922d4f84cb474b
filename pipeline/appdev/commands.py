"""REDESIGN-SHIM: moved to pipeline/commands/; removed at the merge."""

from pipeline.commands.app import app_new as app_new
from pipeline.commands.app import app_run as app_run
from pipeline.commands.app import app_test as app_test
from pipeline.commands.console import stderr as stderr
from pipeline.commands.console import stdout as stdout
