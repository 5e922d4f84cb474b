"""The node agent: fetchers, local store, apply/reconcile, daemon."""
