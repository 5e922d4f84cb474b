"""REDESIGN-SHIM: moved to node_runtime/store/; removed at the merge."""

from node_runtime.store.owner_settings import SettingRefused as SettingRefused
from node_runtime.store.owner_settings import StoredSetting as StoredSetting
from node_runtime.store.owner_settings import configure_command_hint as configure_command_hint
from node_runtime.store.owner_settings import missing_required as missing_required
from node_runtime.store.owner_settings import missing_settings_message as missing_settings_message
from node_runtime.store.owner_settings import store_settings as store_settings
from node_runtime.store.owner_settings import write_defaults as write_defaults
