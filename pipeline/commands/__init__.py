"""The click commands of ``archy``, one module per command group; thin by rule.

A command here parses options (the shared ones come from :mod:`.options`), calls
one library function of ``pipeline``, and prints the result (a table for people,
``--json`` for scripts).  It holds no rule of its own.  A refusal is raised as a
``catalog.refusal.Refused`` (or :class:`.reported.Reported`) and turned into
``error: …`` and exit 1 by ``catalog.command_group.LazyGroup``, in one place; a
library error that does not derive from ``Refused`` yet is caught by the one
command that can meet it and raised again as a ``Refused`` with the same text.

The registry (command name -> module, short help) is ``pipeline/cli.py``; a module
here is imported only when its command runs, so ``archy --help`` and ``archy
validate`` load no boto3, GitPython or httpx.

May import: ``catalog``, ``signing``, ``pipeline`` (never ``node_runtime``), click, rich.
"""
