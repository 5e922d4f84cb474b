"""REDESIGN-SHIM: moved to pipeline/commands/; removed at the merge."""

from pipeline.commands.console import stderr as stderr
from pipeline.commands.console import stdout as stdout
from pipeline.commands.storefront import build_command as build_command
from pipeline.commands.storefront import storefront as storefront
