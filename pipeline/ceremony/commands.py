"""REDESIGN-SHIM: moved to pipeline/commands/; removed at the merge."""

from pipeline.commands.ceremony import (
    ceremony as ceremony,
)
from pipeline.commands.ceremony import (
    init as init,
)
from pipeline.commands.ceremony import (
    keygen as keygen,
)
from pipeline.commands.ceremony import (
    rotate_root as rotate_root,
)
from pipeline.commands.ceremony_events import open_event as open_event
from pipeline.commands.ceremony_events import sign as sign
from pipeline.commands.ceremony_status import status as status
from pipeline.commands.console import stderr as stderr
from pipeline.commands.console import stdout as stdout
from pipeline.commands.options import (
    DEFAULT_CEREMONY_DIR as DEFAULT_CEREMONY_DIR,
)
from pipeline.commands.options import (
    ceremony_dir_option as ceremony_dir_option,
)
from pipeline.commands.options import (
    online_key_options as online_key_options,
)
from pipeline.commands.options import (
    passphrase_options as passphrase_options,
)
from pipeline.commands.publish import (
    publish as publish,
)
from pipeline.commands.publish import (
    refresh_timestamp_command as refresh_timestamp_command,
)
