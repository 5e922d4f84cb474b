"""The daemon loop (node_runtime.daemon.converge) driven by a clock it is handed: when it
pulls, when it reconciles (interval or a change of the watched files), what it tells
systemd, and that it stops when asked.  No sleeping: ``wait`` advances the clock."""

from __future__ import annotations

from node_runtime.daemon import WATCH_SECONDS, Intervals, converge


class Script:
    """A clock, a wait that moves it, and a log of what the loop did when."""

    def __init__(self, stop_at: float) -> None:
        self.now = 0.0
        self.stop_at = stop_at
        self.log: list[tuple[float, str]] = []
        self.watched = "v1"
        self.changes: dict[float, str] = {}
        self.notified: list[tuple[str, ...]] = []

    def clock(self) -> float:
        return self.now

    def wait(self, seconds: float) -> None:
        assert 0.0 <= seconds <= WATCH_SECONDS
        self.now += max(seconds, 0.25)  # a real wait also takes time
        for at, value in list(self.changes.items()):
            if self.now >= at:
                self.watched = value
                del self.changes[at]

    def run(self, intervals: Intervals) -> None:
        def pull() -> None:
            self.log.append((self.now, "pull"))

        def reconcile() -> str:
            self.log.append((self.now, "reconcile"))
            return f"reconciled at {self.now:g}"

        converge(
            intervals,
            pull=pull,
            reconcile=reconcile,
            watched=lambda: self.watched,
            stopping=lambda: self.now >= self.stop_at,
            wait=self.wait,
            clock=self.clock,
            jitter=lambda seconds: seconds,
            notify=lambda *lines: self.notified.append(lines),
        )

    def times(self, what: str) -> list[float]:
        return [at for at, done in self.log if done == what]


def test_it_pulls_then_reconciles_at_once_and_then_on_each_interval() -> None:
    script = Script(stop_at=10.0)
    script.run(Intervals(reconcile=4.0, pull=5.0))
    assert script.log[:2] == [(0.0, "pull"), (0.0, "reconcile")]
    assert script.times("pull") == [0.0, 5.0]
    assert script.times("reconcile") == [0.0, 4.0, 8.0]


def test_a_change_of_the_watched_files_reconciles_before_the_interval() -> None:
    script = Script(stop_at=6.0)
    script.changes = {2.0: "v2"}
    script.run(Intervals(reconcile=3600.0, pull=None))
    assert script.times("reconcile") == [0.0, 2.0]
    assert script.times("pull") == []


def test_systemd_hears_ready_once_after_the_first_reconcile_then_a_status_each_time() -> None:
    script = Script(stop_at=5.0)
    script.run(Intervals(reconcile=2.0, pull=None))
    assert script.notified == [
        ("READY=1", "STATUS=reconciled at 0"),
        ("STATUS=reconciled at 2",),
        ("STATUS=reconciled at 4",),
    ]


def test_a_loop_asked_to_stop_before_it_starts_does_nothing() -> None:
    script = Script(stop_at=0.0)
    script.run(Intervals())
    assert script.log == [] and script.notified == []
