"""REDESIGN-SHIM: moved to pipeline/storefront/publish_step.py; removed at the merge."""

from pipeline.storefront.publish_step import StorefrontReport as StorefrontReport
from pipeline.storefront.publish_step import publish_storefront as publish_storefront
from pipeline.storefront.publish_step import storefront_order as storefront_order
