"""REDESIGN-SHIM: moved to pipeline/ceremony/event_publish.py; removed at the merge."""

from pipeline.ceremony.event_publish import publish_signing_event as publish_signing_event
